"""A room under load: four people, each browser analysing the three streams it receives.

In a module of its own, so that no browser of another test (the analysis tests keep a
viewer open for their whole module) shares the two cores with these four pages."""

from harness.servers import ServerProcess
from tests.e2e.helpers import ANALYSIS_START_MS, BACKENDS_MEASURED, room_url, state, wait_connected, wait_for_analysis

MEASURE_RESPONSIVENESS = """seconds => {
    const ids = window.ensemble.state().peers.map(peer => peer.id);
    const counts = () => ids.map(id => window.ensemble.analysis(id).results);
    const before = counts();
    let longest = 0, over200 = 0, frames = 0, slowest = null;
    const observer = new PerformanceObserver(list => {
        for (const e of list.getEntries()) { longest = Math.max(longest, e.duration); if (e.duration > 200) over200++; }
    });
    observer.observe({ type: 'longtask' });
    // What ran in the slowest animation frame, for the failure message: our scripts, or
    // a thread the two shared cores did not get to.
    const frameObserver = new PerformanceObserver(list => {
        for (const e of list.getEntries()) {
            if (slowest && e.blockingDuration <= slowest.blocking) continue;
            slowest = { blocking: Math.round(e.blockingDuration), duration: Math.round(e.duration),
                scripts: e.scripts.map(s => `${s.invoker} ${s.sourceURL.split('/').pop()} ${Math.round(s.duration)} ms`) };
        }
    });
    frameObserver.observe({ type: 'long-animation-frame' });
    window.__responsiveness = new Promise(done => {
        const start = performance.now();
        const tick = now => {
            frames++;
            if (now - start < seconds * 1000) return requestAnimationFrame(tick);
            observer.disconnect();
            frameObserver.disconnect();
            const results = counts().map((after, i) => ({ mask: after.mask - before[i].mask, faces: after.faces - before[i].faces }));
            done({ fps: frames / seconds, longest, over200, slowest, results });
        };
        requestAnimationFrame(tick);
    });
}"""


def test_four_people_each_analysing_three_remote_streams_keep_their_pages_responsive(launch, tmp_path):
    """Four browsers in a room, every one analysing the three streams it receives. They
    are pages of one Chromium here (one process per person did not fit on two cores);
    each still has its own renderer, workers and connections."""
    with ServerProcess(tmp_path, mesh_max=4) as server:
        browser = launch("small")
        # A first visit on this device times the backends once; the four pages are later
        # visits (with what it kept in localStorage), each in a window of its own.
        sender = browser.new_page()
        sender.goto(room_url(server, "first-visit", "Sender", analysis="off"))
        first_visit = browser.new_page()
        first_visit.goto(room_url(server, "first-visit", "Viewer", analysis="on"))
        wait_connected(first_visit, 1)
        first_visit.wait_for_function(BACKENDS_MEASURED, timeout=ANALYSIS_START_MS)
        kept = first_visit.context.storage_state()
        sender.close()
        first_visit.close()
        pages = []
        for name in "ABCD":
            page = browser.new_context(storage_state=kept, viewport={"width": 1280, "height": 800}).new_page()
            page.goto(room_url(server, "four", name, analysis="on"))
            pages.append(page)
        for page in pages:
            wait_connected(page, 3, timeout=60_000)
        for page in pages:
            for peer in state(page)["peers"]:
                wait_for_analysis(page, peer["id"], timeout=ANALYSIS_START_MS)
        for page in pages:
            page.evaluate(MEASURE_RESPONSIVENESS, 8)
        reports = [page.evaluate("() => window.__responsiveness") for page in pages]
        for report in reports:
            # The main thread is never blocked for long: over 200 ms at most once in the 8 s (a task
            # of ours the two shared cores left waiting midway: one took 263 ms here with a busy loop
            # on the side, 188 ms of it in a 50 ms sampling of audio levels), never for half a second.
            assert report["over200"] <= 1 and report["longest"] < 500, reports
            # The page keeps drawing. Two cores carry four people's pages here, with twelve
            # encoders, twelve decoders and eight analysis workers (the pages drew 5-25 fps
            # in trial runs); a laptop carries one page.
            assert report["fps"] >= 4, reports
            # Analysis gives way to the page, but never stops: every stream keeps getting results.
            assert all(stream["mask"] >= 1 and stream["faces"] >= 1 for stream in report["results"]), reports
