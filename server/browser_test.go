package server

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// artifactsVar names the directory where the browser test leaves its
// screenshots (default: the test's temporary directory).
const artifactsVar = "PUNCHBRIDGE_TEST_ARTIFACTS"

func artifactDir(t *testing.T) string {
	if d := os.Getenv(artifactsVar); d != "" {
		return d
	}
	return t.TempDir()
}

// TestStatusPageInBrowser drives the status page in headless Chromium as
// an operator would: open it, log in with a token, open an absent day's
// explanation, and replay the dead delivery. It leaves screenshots of the
// status page and of the explanation in $PUNCHBRIDGE_TEST_ARTIFACTS.
func TestStatusPageInBrowser(t *testing.T) {
	findChromium(t)
	c := newCompany(t)
	srv := httptest.NewServer(New(c.options()))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	p := launchChromium(t, ctx)
	dir := artifactDir(t)

	// Open: the page asks for a token.
	p.navigate(srv.URL + "/")
	if got := p.path(); got != "/login" {
		t.Fatalf("opening the page shows %s, want the login form", got)
	}

	// Log in.
	p.typeInto("#token", operatorToken)
	p.clickAndLoad("#login-submit")
	if got := p.path(); got != "/" {
		t.Fatalf("after logging in the browser is on %s: %s", got, p.text("main"))
	}
	for sel, want := range map[string]string{
		"header .who":  "otto",
		"#connectors":  "dingtalk-hq",
		"#counts":      "Records pushed",
		"#dlq .count":  "1",
		"#calendar h2": "November 2026",
	} {
		if got := p.text(sel); !strings.Contains(got, want) {
			t.Errorf("%s shows %q, want %q", sel, got, want)
		}
	}
	var teams []string
	p.eval(`[...document.querySelectorAll("details.team summary")].map(s => s.innerText)`, &teams)
	if len(teams) != 2 || !strings.HasPrefix(teams[0], "Team Engineering") || !strings.HasPrefix(teams[1], "Team Sales") {
		t.Errorf("teams %q, want Engineering and Sales", teams)
	}
	status := filepath.Join(dir, "status-page.png")
	p.screenshot(status)
	t.Logf("screenshot of the status page: %s", status)

	// Open an absent day's explanation from the calendar.
	p.clickAndLoad(`#calendar a[data-class="absent"]`)
	if got := p.path(); got != "/days/E1004/2026-11-17" {
		t.Fatalf("the absent day links to %s", got)
	}
	if got := p.text("#status-standard"); got != "absent" {
		t.Errorf("the day's status shows %q, want absent", got)
	}
	why := p.text("#explanation")
	for _, want := range []string{"Shift standard", "(final)", "No punches in the window", "absent"} {
		if !strings.Contains(why, want) {
			t.Errorf("the explanation lacks %q:\n%s", want, why)
		}
	}
	explanation := filepath.Join(dir, "day-explanation.png")
	p.screenshot(explanation)
	t.Logf("screenshot of the explanation: %s", explanation)

	// Back to the status page, and replay the dead delivery.
	p.clickAndLoad(`main a[href="/#calendar"]`)
	p.clickAndLoad(fmt.Sprintf("#dlq-%d button.replay", c.deadID))
	if d := p.acceptedDialogs(); len(d) != 1 || !strings.Contains(d[0], "E1004 2026-11-17") {
		t.Errorf("confirm dialogs %q, want one asking about E1004 2026-11-17", d)
	}
	if got := p.text("#flash"); !strings.Contains(got, fmt.Sprintf("Delivery %d replayed: 1 delivered", c.deadID)) {
		t.Errorf("after the replay the page says %q", got)
	}
	if got := p.text("#dlq"); !strings.Contains(got, "Empty") {
		t.Errorf("the dead-letter queue after the replay: %q", got)
	}
	if got := c.sink.delivered(); len(got) != 1 || got[0] != "hr:E1004:2026-11-17:standard:v1" {
		t.Errorf("the HR sink received %v", got)
	}
	after := filepath.Join(dir, "status-after-replay.png")
	p.screenshot(after)
	t.Logf("screenshot after the replay: %s", after)

	entries, err := c.ledger.AuditEntries(t.Context(), time.Time{}, 0)
	if err != nil || len(entries) != 2 || entries[0].Action != actionReplay || entries[0].Who != "otto" || entries[0].Result != "ok" {
		t.Errorf("audit log %+v, %v; want otto's login and replay", entries, err)
	}
}
