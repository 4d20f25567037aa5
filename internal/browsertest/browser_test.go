package browsertest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/testutil"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// step bounds one browser action, so a broken page fails in seconds.
const step = 15 * time.Second

// browser is one headless Chromium for a test; each page gets its own
// browser context (its own storage, like another person's device).
type browser struct {
	t   *testing.T
	ctx context.Context
}

// startBrowser starts Chromium; more options (a language) go after the
// defaults.
func startBrowser(t *testing.T, more ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Chromium is missing at %s; the browser tests need it. Install it with:\n"+
			"  sudo apt-get install -y chromium chromium-driver\n(or run .ci/install-deps as root)", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-GB"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 720),
	}
	opts = append(opts, more...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not carry a timeout.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("about:blank")), "starting Chromium")
	return &browser{t: t, ctx: ctx}
}

// page is one tab in a fresh browser context, sized like the person's screen.
type page struct {
	t       *testing.T
	name    string
	ctx     context.Context
	console *consoleLog
}

type consoleLog struct {
	mu    sync.Mutex
	lines []string
}

// on is the same page, failing the subtest t instead of its parent.
func (p *page) on(t *testing.T) *page {
	c := *p
	c.t = t
	return &c
}

func (b *browser) page(name string, width, height int64, mobile bool) *page {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	p := &page{t: b.t, name: name, ctx: ctx, console: &consoleLog{}}
	opts := []chromedp.EmulateViewportOption{}
	if mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	require.NoError(b.t, chromedp.Do(ctx, chromedp.EmulateViewport(width, height, opts...)))
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			p.console.mu.Lock()
			p.console.lines = append(p.console.lines, m.String())
			p.console.mu.Unlock()
		}
	}()
	b.t.Cleanup(func() {
		if b.t.Failed() {
			b.t.Logf("console of the %s page:\n  %s", name, strings.Join(p.consoleLines(), "\n  "))
			b.t.Logf("messages on the %s page: %s", name, p.messages())
		}
	})
	return p
}

func (p *page) consoleLines() []string {
	p.console.mu.Lock()
	defer p.console.mu.Unlock()
	return append([]string(nil), p.console.lines...)
}

// messages is what the page says to its person (errors, statuses), for a
// failing test's log.
func (p *page) messages() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('[role=alert], [role=status], .remote')]
		.filter((el) => el.textContent.trim()).map((el) => '#' + el.id + ': ' + el.textContent.trim()).join(' | ')`))
	if err != nil {
		return err.Error()
	}
	return s
}

// noExceptions fails when the page threw an exception nobody caught, or
// the browser refused something under the Content-Security-Policy.
func (p *page) noExceptions() {
	p.t.Helper()
	for _, l := range p.consoleLines() {
		require.False(p.t, strings.HasPrefix(l, "exception:"), "the %s page threw: %s", p.name, l)
		require.NotContains(p.t, l, "Content Security Policy", "the %s page broke its CSP", p.name)
	}
}

func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, step)
	defer cancel()
	require.NoError(p.t, chromedp.Do(ctx, actions...), "%s page: %s", p.name, what)
}

func (p *page) open(url string) {
	p.t.Helper()
	p.do("open "+url, chromedp.Navigate(url))
}

// click clicks an element with the mouse. Pages redraw parts of themselves
// when a change arrives live, so an element found a moment ago may be gone:
// then it is looked up again.
func (p *page) click(sel string) {
	p.t.Helper()
	var err error
	for range 3 {
		ctx, cancel := context.WithTimeout(p.ctx, step)
		err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
		cancel()
		if err == nil || !strings.Contains(err.Error(), "node") {
			break
		}
	}
	require.NoError(p.t, err, "%s page: click %s", p.name, sel)
}

// fill replaces what an input holds by typing, as a person does.
func (p *page) fill(sel, text string) {
	p.t.Helper()
	// chromedp.Clear empties the value attribute, which no longer counts
	// once a person has typed; empty the value itself.
	p.do("type into "+sel,
		chromedp.WaitVisible(chromedp.CSS(sel)),
		setValue(sel, ""),
		chromedp.SendKeys(chromedp.CSS(sel), text))
}

// enter presses Enter in a field, submitting its form.
func (p *page) enter(sel string) {
	p.t.Helper()
	p.do("press Enter in "+sel, chromedp.SendKeys(chromedp.CSS(sel), kb.Enter))
}

// choose picks an option of a select by its value.
func (p *page) choose(sel, value string) {
	p.t.Helper()
	p.do("choose "+value+" in "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), setValue(sel, value))
}

// setValue sets a control's value as a person's input would, with the
// input and change events.
func setValue(sel, value string) chromedp.Action[chromedp.Void] {
	js := fmt.Sprintf(`((el) => {
		el.value = %q;
		el.dispatchEvent(new Event('input', {bubbles: true}));
		el.dispatchEvent(new Event('change', {bubbles: true}));
		return el.value === %q;
	})(document.querySelector(%q))`, value, value, sel)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		ok, err := chromedp.Evaluate[bool](js)(ctx, t)
		if err == nil && !ok {
			err = fmt.Errorf("%s has no option %q", sel, value)
		}
		return chromedp.Void{}, err
	}
}

func (p *page) visible(sel string) {
	p.t.Helper()
	p.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

func (p *page) gone(sel string) {
	p.t.Helper()
	p.do("wait for "+sel+" to go", chromedp.WaitNotVisible(chromedp.CSS(sel)))
}

// text is what a visible element shows, read in one step so a live redraw
// cannot come between finding the element and reading it.
func (p *page) text(sel string) string {
	p.t.Helper()
	p.visible(sel)
	s := eval[string](p, fmt.Sprintf(`document.querySelector(%q)?.innerText ?? ''`, sel))
	return strings.TrimSpace(s)
}

func (p *page) value(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, step)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel), chromedp.NodeReady))
	require.NoError(p.t, err, "%s page: read the value of %s", p.name, sel)
	return s
}

// eval runs a JavaScript expression (awaiting a promise) and decodes its value.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	require.NoError(p.t, err, "%s page: evaluate %s", p.name, expr)
	return v
}

// waitFor polls a JavaScript condition until it holds; what says what the
// person waits to see.
func (p *page) waitFor(what, cond string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, step+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(step)))
	require.NoError(p.t, err, "%s page: waiting until %s (%s)", p.name, what, cond)
}

// waitAcrossReload is waitFor for a condition that holds only after the
// page loads itself again (location.reload()), which a poll inside the old
// page does not survive.
func (p *page) waitAcrossReload(what, cond string) {
	p.t.Helper()
	deadline := time.Now().Add(step)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`Boolean(%s)`, cond)))
		cancel()
		if err == nil && ok {
			return
		}
		require.True(p.t, time.Now().Before(deadline), "%s page: waiting until %s (%s): %v", p.name, what, cond, err)
		time.Sleep(100 * time.Millisecond)
	}
}

// attr is an attribute of the element sel, or "" without it.
func (p *page) attr(sel, name string) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`document.querySelector(%q)?.getAttribute(%q) ?? ''`, sel, name))
}

// waitText waits until the element's text contains want.
func (p *page) waitText(sel, want string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("%s shows %q", sel, want),
		fmt.Sprintf(`(document.querySelector(%q)?.textContent || '').includes(%q)`, sel, want))
}

// waitValue waits until an input holds want.
func (p *page) waitValue(sel, want string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("%s holds %q", sel, want),
		fmt.Sprintf(`document.querySelector(%q)?.value === %q`, sel, want))
}

// screenshot writes the viewport to test-output/screenshots/<name>.png.
func (p *page) screenshot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, step)
	defer cancel()
	// Let animations and the focus ring settle.
	time.Sleep(150 * time.Millisecond)
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(p.t, err, "%s page: screenshot", p.name)
	dir := filepath.Join(testutil.RepoRoot(p.t), "test-output", "screenshots")
	require.NoError(p.t, os.MkdirAll(dir, 0o755))
	require.NoError(p.t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

// fits checks that the page needs no scrolling sideways (and, for the
// console, none at all) at its size, and that every form control has a name
// a screen reader can read out.
func (p *page) fits(scrollDown bool) {
	p.t.Helper()
	type layout struct {
		Width, ScrollWidth, Height, ScrollHeight int
		Unlabelled                               []string
		Below                                    []string
	}
	l := eval[layout](p, `(() => {
		const d = document.documentElement;
		const unlabelled = [...document.querySelectorAll('input, select, textarea, button')]
			.filter((el) => el.offsetParent !== null && el.type !== 'hidden')
			.filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !(el.tagName === 'BUTTON' && el.textContent.trim()))
			.map((el) => el.outerHTML.slice(0, 80));
		const below = [...document.querySelectorAll('body *')]
			.filter((el) => el.getBoundingClientRect().bottom > innerHeight + window.scrollY && el.offsetParent !== null)
			.slice(0, 5).map((el) => el.tagName + '#' + el.id + '.' + el.className);
		return {Width: innerWidth, ScrollWidth: d.scrollWidth, Height: innerHeight, ScrollHeight: d.scrollHeight, Unlabelled: unlabelled, Below: below};
	})()`)
	require.LessOrEqual(p.t, l.ScrollWidth, l.Width, "%s page is wider than its %d px screen", p.name, l.Width)
	if !scrollDown {
		require.LessOrEqual(p.t, l.ScrollHeight, l.Height, "%s page is taller than its %d px screen: %v", p.name, l.Height, l.Below)
	}
	require.Empty(p.t, l.Unlabelled, "%s page has controls without a label", p.name)
}
