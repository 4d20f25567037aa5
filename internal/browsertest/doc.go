// Package browsertest drives the console and the demo website in headless
// Chromium (through chromedp) against a handoffd started in the test: the
// customer on a phone-sized page, the agent on a 1280×720 desk, each in its
// own browser context. Screenshots of the key moments go to
// test-output/screenshots/ at the repository root.
//
// The tests need Chromium at /usr/bin/chromium (Debian: apt-get install
// chromium chromium-driver; .ci/install-deps does it) and fail, not skip,
// without it.
package browsertest
