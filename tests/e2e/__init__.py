"""Browser journeys in headless Chromium against a real `mend serve`."""
