package reconcile

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

func located(e mapping.Event, lat, lng float64) mapping.Event {
	p := *e.Punch
	p.Lat, p.Lng = &lat, &lng
	e.Punch = &p
	return e
}

func received(e mapping.Event, after time.Duration) mapping.Event {
	e.ReceivedAt = e.Time.Add(after)
	return e
}

func verdict(e mapping.Event, result string, extra ...string) mapping.Event {
	p := *e.Punch
	p.PlatformResult, p.Anomalies = result, extra
	e.Punch = &p
	return e
}

// anomalyCase checks the anomalies of one day: "type event-index" pairs,
// where the index is the event's position in the events list.
func TestAnomalies(t *testing.T) {
	const shanghaiLat, shanghaiLng = 31.2304, 121.4737
	cases := []struct {
		name     string
		disabled []string
		events   func(b *evb) []mapping.Event
		want     [][2]any // {type, index of the event}
	}{{
		name: "offline upload: received more than 1h after its time",
		events: func(b *evb) []mapping.Event {
			ps := b.punches("2026-11-20 09:00", "2026-11-20 18:00")
			return []mapping.Event{received(ps[0], time.Hour), received(ps[1], time.Hour+time.Second)}
		},
		want: [][2]any{{"offline_upload", 1}},
	}, {
		name: "offline upload of a pulled punch is judged by the platform's upload time",
		events: func(b *evb) []mapping.Event {
			ps := b.punches("2026-11-20 09:00", "2026-11-20 18:00", "2026-11-20 18:30")
			for i := range ps {
				ps[i] = received(ps[i], 50*time.Hour) // pulled two days later
				ps[i].Via = mapping.ViaPull
			}
			up := ps[1].Time.Add(3 * time.Hour) // the watch synced three hours late
			p := *ps[1].Punch
			p.UploadedAt = &up
			ps[1].Punch = &p
			return ps
		},
		want: [][2]any{{"offline_upload", 1}},
	}, {
		name: "location jump: Shanghai to Beijing in an hour",
		events: func(b *evb) []mapping.Event {
			ps := b.punches("2026-11-20 09:00", "2026-11-20 10:00", "2026-11-20 18:00")
			return []mapping.Event{located(ps[0], shanghaiLat, shanghaiLng), located(ps[1], 39.9042, 116.4074), located(ps[2], 39.9042, 116.4074)}
		},
		want: [][2]any{{"location_jump", 1}},
	}, {
		name: "no jump at a plausible speed, nor within the accuracy radii",
		events: func(b *evb) []mapping.Event {
			ps := b.punches("2026-11-20 09:00", "2026-11-20 09:00:01", "2026-11-20 18:00")
			a, c := located(ps[0], shanghaiLat, shanghaiLng), located(ps[1], shanghaiLat+0.0004, shanghaiLng)
			acc := 30.0
			a.Punch.AccuracyM, c.Punch.AccuracyM = &acc, &acc
			return []mapping.Event{a, c, located(ps[2], shanghaiLat+0.5, shanghaiLng)}
		},
		want: nil,
	}, {
		name: "drift: an offline upload 5 km from the previous online punch",
		events: func(b *evb) []mapping.Event {
			ps := b.punches("2026-11-20 09:00", "2026-11-20 18:00")
			return []mapping.Event{located(ps[0], shanghaiLat, shanghaiLng), received(located(ps[1], shanghaiLat+0.045, shanghaiLng), 3*time.Hour)}
		},
		want: [][2]any{{"location_jump", 1}, {"offline_upload", 1}},
	}, {
		name: "platform verdicts are carried over, timing verdicts are not",
		events: func(b *evb) []mapping.Event {
			ps := b.punches("2026-11-20 09:30", "2026-11-20 18:00")
			return []mapping.Event{verdict(ps[0], "late", "outside", "invalid_record", "outside"), verdict(ps[1], "wifi_exception", "early")}
		},
		want: [][2]any{{"invalid_record", 0}, {"outside", 0}, {"wifi_exception", 1}},
	}, {
		name:     "disabled types are not reported",
		disabled: []string{"offline_upload", "outside"},
		events: func(b *evb) []mapping.Event {
			ps := b.punches("2026-11-20 09:00", "2026-11-20 18:00")
			return []mapping.Event{received(verdict(ps[0], "outside"), 5*time.Hour), verdict(ps[1], "device_exception")}
		},
		want: [][2]any{{"device_exception", 1}},
	}, {
		name: "a not_signed placeholder is not a punch",
		events: func(b *evb) []mapping.Event {
			ps := b.punches("2026-11-20 09:00", "2026-11-20 18:00")
			return []mapping.Event{ps[0], verdict(ps[1], "not_signed")}
		},
		want: nil,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := testRules()
			r.Anomalies.Disabled = tc.disabled
			e := compile(t, r)
			events := tc.events(&evb{emp: "E1"})
			recs, err := e.Employee("E1", events, "2026-11-20", "2026-11-20", farFuture)
			if err != nil || len(recs) != 1 {
				t.Fatalf("Employee: %d records, %v", len(recs), err)
			}
			var got, want [][2]any
			for _, a := range recs[0].Anomalies {
				i := slices.IndexFunc(events, func(ev mapping.Event) bool { return ev.ID == a.EventID })
				got = append(got, [2]any{a.Type, i})
				if a.Detail == "" {
					t.Errorf("anomaly %s has no detail", a.Type)
				}
			}
			want = tc.want
			slices.SortFunc(got, func(a, b [2]any) int { return compareStrings(a[0].(string), b[0].(string)) })
			if !slices.Equal(got, want) {
				t.Errorf("anomalies = %v, want %v (%+v)", got, want, recs[0].Anomalies)
			}
		})
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestHaversine(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		lat1, lng1, lat2, lng2 float64
		km                     float64
	}{
		{"same point", 31.23, 121.47, 31.23, 121.47, 0},
		{"one degree of latitude", 0, 0, 1, 0, 111.195},
		{"Shanghai to Beijing", 31.2304, 121.4737, 39.9042, 116.4074, 1067.3},
		{"antipodes", 0, 0, 0, 180, math.Pi * earthRadiusKm},
	} {
		if got := haversineKm(tc.lat1, tc.lng1, tc.lat2, tc.lng2); math.Abs(got-tc.km) > 0.5 {
			t.Errorf("%s: %.3f km, want %.3f", tc.name, got, tc.km)
		}
	}
}

func TestDatums(t *testing.T) {
	const lat, lng = 31.2304, 121.4737 // Shanghai, WGS-84
	gLat, gLng := wgs84ToGCJ02(lat, lng)
	if off := haversineKm(lat, lng, gLat, gLng); off < 0.2 || off > 0.8 {
		t.Errorf("GCJ-02 offset in Shanghai = %.3f km, want 0.2–0.8", off)
	}
	wLat, wLng := toWGS84(gLat, gLng, "gcj02")
	if back := haversineKm(lat, lng, wLat, wLng); back > 0.005 {
		t.Errorf("GCJ-02 round trip is %.1f m off", back*1000)
	}
	// Baidu's BD-09 of the same place, from the published forward formula.
	const xPi = math.Pi * 3000.0 / 180.0
	z := math.Sqrt(gLng*gLng+gLat*gLat) + 0.00002*math.Sin(gLat*xPi)
	theta := math.Atan2(gLat, gLng) + 0.000003*math.Cos(gLng*xPi)
	bLat, bLng := z*math.Sin(theta)+0.006, z*math.Cos(theta)+0.0065
	wLat, wLng = toWGS84(bLat, bLng, "bd09")
	if back := haversineKm(lat, lng, wLat, wLng); back > 0.01 {
		t.Errorf("BD-09 round trip is %.1f m off", back*1000)
	}
	if la, ln := toWGS84(48.85, 2.35, "gcj02"); la != 48.85 || ln != 2.35 {
		t.Errorf("outside China GCJ-02 is WGS-84; got %v,%v", la, ln)
	}
	// A WeCom punch (GCJ-02) and a DingTalk punch (WGS-84) at one desk are
	// not a jump, even with a 1 km drift limit and no accuracy given.
	a := &mapping.Punch{Lat: ptr(lat), Lng: ptr(lng)}
	b := &mapping.Punch{Lat: ptr(gLat), Lng: ptr(gLng), Datum: "gcj02"}
	if d := distanceKm(a, b); d > 0.005 {
		t.Errorf("distance across datums = %.1f m", d*1000)
	}
}

func ptr(f float64) *float64 { return &f }
