"""What a test asks of a room page, through `window.ensemble` and the DOM."""

CONNECTED_PEERS = "() => (window.ensemble?.state().peers ?? []).filter(p => p.connectionState === 'connected').length"


def wait_connected(page, count, timeout=15_000):
    """Until `count` remote peers are connected (and no more are listed)."""
    page.wait_for_function(
        f"() => {{ const peers = window.ensemble?.state().peers ?? [];"
        f" return peers.length === {count} && peers.every(p => p.connectionState === 'connected'); }}",
        timeout=timeout,
    )


def wait_videos_playing(page, count, timeout=15_000):
    """Until `count` remote videos each show new frames (really playing, not frozen)."""
    page.wait_for_function(
        f"""() => {{
            const videos = [...document.querySelectorAll('.tile:not(.self) video:not(.backdrop)')];
            if (videos.length !== {count}) return false;
            window.__frames ??= new Map();
            let allMoving = true;
            for (const video of videos) {{
                const now = video.getVideoPlaybackQuality().totalVideoFrames;
                const before = window.__frames.get(video);
                window.__frames.set(video, now);
                if (!(video.readyState >= 2 && before !== undefined && now > before + 2)) allMoving = false;
            }}
            return allMoving;
        }}""",
        polling=700,
        timeout=timeout,
    )


def state(page):
    return page.evaluate("() => window.ensemble.state()")


def room_url(server, room, name=None, **params):
    """The room page's link. Analysis is off unless asked for: every peer here shares the
    same two cores, and tests of the call itself should not wait behind model start-up."""
    params.setdefault("analysis", "off")
    query = "&".join(f"{key}={value}" for key, value in ({"name": name} if name else {}).items() | params.items())
    return f"{server.url}/r/{room}" + (f"?{query}" if query else "")
