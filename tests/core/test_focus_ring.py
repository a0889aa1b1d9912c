"""The focus ring stands out at least 3:1 against every background it is drawn on (WCAG 2.2, 1.4.11): the
page, white boxes, the soft panels (the quick-exit bar, one's own messages) and the notices."""

import re
from pathlib import Path

from django.conf import settings

CSS = (Path(settings.BASE_DIR) / "mend" / "static" / "mend" / "mend.css").read_text()


def luminance(colour: str) -> float:
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))

    def linear(c):
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def variable(name: str) -> str:
    return re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})", CSS).group(1)


def test_the_focus_ring_has_three_to_one_on_every_background():
    ring = re.search(r":focus-visible\s*\{\s*outline:\s*\d+px solid (#[0-9a-fA-F]{6})", CSS).group(1)
    for background in ["#ffffff", variable("paper"), variable("soft"), variable("notice")]:
        assert contrast(ring, background) >= 3, (ring, background, round(contrast(ring, background), 2))


def test_the_contrast_sum_is_right():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#c77d00", "#f3efe2"), 2) == 2.87  # the ring new users found too faint
