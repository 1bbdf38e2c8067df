"""Front-end pages: realistic-sized WordPress HTML carrying the chat tokens where the plugin
puts them, plus the pages of faults (fatal error, maintenance, Cloudflare challenge)."""

from __future__ import annotations

from functools import lru_cache

from ._config import SiteConfig
from ._markup import aipkit_container, legacy_container
from ._nonce import CHAT_ACTION, IMG_ACTION, OTHER_PLUGIN_ACTION, NonceClock
from ._php import esc_html, wp_json

HOME_ID = 7
CHAT_ID = 123
SITE_NAME = "Local AI Power"

_WORDS = str.split(
    "garden notes about seasonal planting soil compost tomatoes watering schedules pruning "
    "roses shade perennials herbs kitchen recipes weekend markets neighbours bicycles "
    "weather forecasts photography travel journals mountains rivers libraries coffee"
)


@lru_cache(maxsize=1)
def _paragraphs() -> tuple[str, ...]:
    out = []
    for i in range(400):
        words = [_WORDS[(i * 7 + j * 3) % len(_WORDS)] for j in range(60 + i % 25)]
        out.append("<p>" + " ".join(words).capitalize() + ".</p>")
    return tuple(out)


def filler(size: int, offset: int) -> str:
    """Paragraphs of plausible page text, about ``size`` characters."""
    parts: list[str] = []
    total = 0
    paragraphs = _paragraphs()
    i = offset
    while total < size:
        para = paragraphs[i % len(paragraphs)]
        parts.append(para)
        total += len(para) + 1
        i += 1
    return "\n".join(parts)


def page_head(title: str, params: str, site_name: str = SITE_NAME) -> str:
    """A WordPress theme's ``<head>``; ``params``: inline scripts to put in it."""
    styles = "\n".join(
        f"<link rel='stylesheet' id='style-{n}-css' href='/wp-content/themes/twentytwentyfour/"
        f"assets/css/part-{n}.css?ver=6.1.9' media='all' />"
        for n in range(12)
    )
    return (
        '<!DOCTYPE html>\n<html lang="en-US">\n<head>\n<meta charset="UTF-8" />\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1" />\n'
        f"<title>{esc_html(title)} – {site_name}</title>\n"
        '<meta name="generator" content="WordPress 6.1.9" />\n'
        f"{styles}\n{params}</head>\n"
    )


def _wpaicg_params(clock: NonceClock, base: str) -> str:
    params = {
        "ajax_url": base + "/wp-admin/admin-ajax.php",
        "search_nonce": clock.create(CHAT_ACTION),
        "logged_in": "0",
        "languages": {"source": "Sources", "no_result": "No result found", "wrong": "Something "
                      "went wrong", "prompt_strength": "Please enter a valid prompt strength"},
    }
    return (
        "<script id=\"wpaicg-init-js-extra\">\nvar wpaicgParams = "
        + wp_json(params).decode()
        + ";\n</script>\n"
    )


def menu() -> str:
    """The theme's navigation menu."""
    return "".join(f'<li class="menu-item"><a href="/{w}/">{w.title()}</a></li>' for w in _WORDS)


def page_body(head: str, body_class: str, title: str, content: str, footer: str = "") -> str:
    """A whole page around ``content`` (the chat container, say), with ``footer`` just
    before ``</body>`` (where plugins inject site-wide widgets)."""
    return (
        f'{head}<body class="wp-site-blocks {body_class}">\n'
        f'<header class="site-header"><nav><ul class="menu">{menu()}</ul></nav></header>\n'
        f'<main id="main"><article class="entry">\n<h1 class="entry-title">{title}</h1>\n'
        f"{content}\n</article></main>\n"
        f'<footer class="site-footer"><p>Proudly powered by WordPress</p></footer>\n'
        "<script src='/wp-includes/js/jquery/jquery.min.js?ver=3.6.1' id='jquery-core-js'>"
        f"</script>\n{footer}</body>\n</html>\n"
    )


def render_page(
    cfg: SiteConfig,
    clock: NonceClock,
    *,
    generation: str,
    base: str,
    path: str,
    kind: str,
    streams: bool,
) -> bytes:
    """A front-end page. ``kind`` is ``"chat"``, ``"home"`` (no container) or ``"404"``."""
    legacy = generation != "aipkit"
    titles = {"chat": "Chat", "home": "Home", "404": "Page not found"}
    title = "Home" if kind == "chat" and path == "/" else titles[kind]
    post_id = "" if kind == "404" else str(HOME_ID if path == "/" else CHAT_ID)
    params = _wpaicg_params(clock, base) if legacy else ""
    other = (
        f'<form class="wpcf7-form init" action="{esc_html(path)}#wpcf7" method="post" '
        f'data-status="init" data-nonce="{clock.create(OTHER_PLUGIN_ACTION)}">\n'
        '<input type="text" name="your-email" value="" /></form>\n'
        f'<input type="hidden" id="wpaicg-img-nonce" value="{clock.create(IMG_ACTION)}">\n'
        if cfg.other_plugin_nonce
        else ""
    )
    container = ""
    if kind == "chat":
        if legacy:
            url = base + path.rstrip("/")
            container = legacy_container(
                cfg, generation, clock.create(CHAT_ACTION), post_id, url, streams
            )
        else:
            container = aipkit_container(
                cfg, clock.create("aipkit_frontend_chat_nonce"),
                base + "/wp-admin/admin-ajax.php", int(post_id),
            )
    body_class = "error404" if kind == "404" else f"page-id-{post_id}"
    head = page_head(title, params)
    skeleton = len(head) + len(other) + len(container) + len(menu()) + 600
    pad = max(cfg.page_size - skeleton, 0)
    top, bottom = filler(pad // 2, 0), filler(pad - pad // 2, 200)
    content = f"{top}\n{other}{container}{bottom}"
    return page_body(head, body_class, title, content).encode()


FATAL_ERROR_TEXT = "There has been a critical error on this website."
MAINTENANCE_TEXT = "Briefly unavailable for scheduled maintenance. Check back in a minute."


def die_page(title: str, message: str) -> bytes:
    """``wp_die``'s HTML page."""
    return (
        '<!DOCTYPE html>\n<html lang="en-US">\n<head>\n<meta http-equiv="Content-Type" '
        'content="text/html; charset=utf-8" />\n<meta name="viewport" '
        f'content="width=device-width">\n<title>{title}</title>\n</head>\n'
        f'<body id="error-page">\n\t<div class="wp-die-message"><p>{message}</p></div>\n'
        "</body>\n</html>"
    ).encode()


def cloudflare_page(ray: str) -> bytes:
    """A Cloudflare managed challenge ("Just a moment...")."""
    return (
        '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
        '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">'
        '<meta name="robots" content="noindex,nofollow"></head><body>'
        '<div class="main-wrapper" role="main"><div class="main-content">'
        '<noscript><div class="h2">Enable JavaScript and cookies to continue</div></noscript>'
        "</div></div><script>(function(){window._cf_chl_opt={cvId: '3',cZone: "
        f"'127.0.0.1',cType: 'managed',cRay: '{ray}'}};var a = document.createElement('script');"
        f"a.src = '/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray={ray}';"
        "document.getElementsByTagName('head')[0].appendChild(a);}());</script>"
        "</body></html>"
    ).encode()
