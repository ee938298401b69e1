"""Where a server's time went, from py-spy's collapsed stacks (`--format raw`, as bench/signaling.py --py-spy writes).

    .venv/bin/python bench/profile_summary.py /tmp/profiles/memory-100x4-0-0.txt [--top 30] [--match json]

Prints, in % of one core over the window (py-spy samples busy threads only, 100 a
second), how often each function was on the stack ("inclusive") and at its top
("self"). Frames are `function (file)`: line numbers are dropped so one function
counts once.
"""

import argparse
import re
from collections import Counter
from pathlib import Path

LINE_NUMBER = re.compile(r":\d+\)$")


def read_stacks(path):
    stacks = Counter()
    for line in Path(path).read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        if frames:
            stacks[tuple(LINE_NUMBER.sub(")", frame) for frame in frames.split(";"))] += int(count)
    return stacks


def summarise(stacks):
    inclusive, own = Counter(), Counter()
    for frames, count in stacks.items():
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    return inclusive, own


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match", help="only frames containing this text")
    parser.add_argument("--seconds", type=float, default=25.0, help="the window the samples cover")
    parser.add_argument("--rate", type=float, default=100.0, help="py-spy samples a second")
    options = parser.parse_args()
    stacks = Counter()
    for path in options.paths:
        stacks.update(read_stacks(path))
    total = options.seconds * options.rate * len(options.paths)
    inclusive, own = summarise(stacks)
    print(f"{sum(stacks.values())} samples: busy {sum(stacks.values()) / total:.0%} of one core")
    for title, counter in (("inclusive", inclusive), ("self", own)):
        print(f"\n{title}:")
        rows = [(frame, count) for frame, count in counter.most_common() if not options.match or options.match in frame]
        for frame, count in rows[: options.top]:
            print(f"{count / total:6.1%}  {frame}")


if __name__ == "__main__":
    main()
