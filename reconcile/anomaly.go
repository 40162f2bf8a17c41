package reconcile

import (
	"cmp"
	"strconv"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// Anomaly types the engine reports in DayRecord.Anomalies. The platform's
// own location and device verdicts keep their names.
const (
	AnomalyUnassignedPunch   = "unassigned_punch"
	AnomalyUnknownDirection  = "unknown_direction"
	AnomalyOutBeforeIn       = "out_before_in"
	AnomalyDuplicatePunch    = "duplicate_punch"
	AnomalyMakeupPending     = "makeup_pending"
	AnomalyOfflineUpload     = "offline_upload"
	AnomalyLocationJump      = "location_jump"
	AnomalyOutside           = "outside"
	AnomalyLocationException = "location_exception"
	AnomalyDeviceException   = "device_exception"
	AnomalyWifiException     = "wifi_exception"
)

// AnomalyTypes lists every anomaly type the engine itself can report, the
// names accepted by anomalies.disabled.
func AnomalyTypes() []string {
	return []string{
		AnomalyUnassignedPunch, AnomalyUnknownDirection, AnomalyOutBeforeIn, AnomalyDuplicatePunch,
		AnomalyMakeupPending, AnomalyOfflineUpload, AnomalyLocationJump,
		AnomalyOutside, AnomalyLocationException, AnomalyDeviceException, AnomalyWifiException,
	}
}

// carriedVerdict reports whether a platform verdict is carried over as an
// anomaly of the same name: the location and device verdicts are. The
// timing verdicts (normal, late, serious_late, early, absent, not_signed,
// time_exception) are not, because the engine judges time itself.
func carriedVerdict(v string) bool {
	switch v {
	case AnomalyOutside, AnomalyLocationException, AnomalyDeviceException, AnomalyWifiException:
		return true
	}
	return false
}

func timingVerdict(v string) bool {
	switch v {
	case "normal", "late", "serious_late", "early", "absent", "not_signed", "time_exception":
		return true
	}
	return false
}

// anom is an anomaly on its way to the record of occurrence home; sec
// orders the anomalies of one record by the instant they concern.
type anom struct {
	home int32
	sec  int64
	a    mapping.Anomaly
}

func compareAnom(x, y anom) int {
	if c := cmp.Compare(x.home, y.home); c != 0 {
		return c
	}
	return compareAnomInDay(x, y)
}

// compareAnomInDay orders the anomalies of one record.
func compareAnomInDay(x, y anom) int {
	if c := cmp.Compare(x.sec, y.sec); c != 0 {
		return c
	}
	if c := strings.Compare(x.a.Type, y.a.Type); c != 0 {
		return c
	}
	if c := strings.Compare(x.a.EventID, y.a.EventID); c != 0 {
		return c
	}
	return strings.Compare(x.a.Detail, y.a.Detail)
}

// anomalies is a per-call collector that drops disabled types.
type anomalies struct {
	e    *Engine
	list []anom
}

func (s *anomalies) add(home int32, sec int64, typ, eventID, detail string) {
	if s.e.disabled[typ] {
		return
	}
	s.list = append(s.list, anom{home: home, sec: sec, a: mapping.Anomaly{Type: typ, EventID: eventID, Detail: detail}})
}

// punchAnomalies reports what concerns single punches: a punch in no
// window (unassigned_punch, on the nearest occurrence), a repeated punch
// (duplicate_punch), a punch received more than offline_after after its
// time (offline_upload, strictly more), and the platform's carried
// verdicts, from punch.platform_result and punch.anomalies alike. Entries of
// punch.anomalies that are neither a carried nor a timing verdict are
// connector findings and are carried over under their own name.
func (e *Engine) punchAnomalies(ps []punch, out *anomalies) {
	for i := range ps {
		p := &ps[i]
		id := p.ev.ID
		if !p.inWin {
			out.add(p.home, p.sec, AnomalyUnassignedPunch, id, "at "+e.clock(p.sec)+", inside no shift window; not counted")
		}
		if p.dupOf != nil {
			out.add(p.home, p.sec, AnomalyDuplicatePunch, id, "same second and direction as "+p.dupOf.ID+"; counted once")
			continue
		}
		if p.makeup {
			continue
		}
		if late := p.recv - p.sec; late > e.offlineAfter {
			out.add(p.home, p.sec, AnomalyOfflineUpload, id, "received "+(time.Duration(late)*time.Second).String()+" after the punch")
		}
		pr := p.ev.Punch
		if carriedVerdict(pr.PlatformResult) {
			out.add(p.home, p.sec, pr.PlatformResult, id, "platform verdict")
		}
		for k, v := range pr.Anomalies {
			if v == "" || v == pr.PlatformResult || timingVerdict(v) || indexOf(pr.Anomalies[:k], v) >= 0 {
				continue
			}
			out.add(p.home, p.sec, v, id, "platform verdict")
		}
	}
}

func indexOf(list []string, v string) int {
	for i, s := range list {
		if s == v {
			return i
		}
	}
	return -1
}

// locationAnomalies reports location_jump on the later of two punches, in
// time order, among the punches with a location (duplicates and make-ups
// have none that counts):
//   - when the previous located punch, at most lookback earlier (t − prev
//     <= lookback), is farther away than max_speed_kmh allows in between:
//     distance > speed × elapsed (strict; at the same second, any distance);
//   - or when this punch is an offline upload and the previous online
//     located punch, at most lookback earlier, is more than drift_km away
//     (strict).
//
// Distances are great-circle (haversine) between WGS-84 positions (GCJ-02
// and BD-09 are converted first), less both punches' reported accuracy
// radii, so GPS noise alone never counts as a jump.
func (e *Engine) locationAnomalies(ps []punch, out *anomalies) {
	prev, prevOnline := -1, -1
	for i := range ps {
		p := &ps[i]
		if p.dupOf != nil || p.makeup || p.ev.Punch.Lat == nil || p.ev.Punch.Lng == nil {
			continue
		}
		offline := p.recv-p.sec > e.offlineAfter
		jumped := false
		if prev >= 0 && p.sec-ps[prev].sec <= e.lookback {
			q := &ps[prev]
			km := distanceKm(p.ev.Punch, q.ev.Punch)
			hours := float64(p.sec-q.sec) / 3600
			if km > e.maxSpeedKmh*hours {
				jumped = true
				out.add(p.home, p.sec, AnomalyLocationJump, p.ev.ID, strconv.FormatFloat(km, 'f', 1, 64)+" km from "+q.ev.ID+" in "+
					(time.Duration(p.sec-q.sec)*time.Second).String()+", faster than "+strconv.FormatFloat(e.maxSpeedKmh, 'f', -1, 64)+" km/h")
			}
		}
		if offline && !jumped && prevOnline >= 0 && p.sec-ps[prevOnline].sec <= e.lookback {
			q := &ps[prevOnline]
			if km := distanceKm(p.ev.Punch, q.ev.Punch); km > e.driftKm {
				out.add(p.home, p.sec, AnomalyLocationJump, p.ev.ID, "offline upload "+strconv.FormatFloat(km, 'f', 1, 64)+" km from the previous online punch "+q.ev.ID)
			}
		}
		prev = i
		if !offline {
			prevOnline = i
		}
	}
}

// clock formats an instant in the rules' zone for anomaly details.
func (e *Engine) clock(sec int64) string {
	return time.Unix(sec, 0).In(e.loc).Format(time.RFC3339)
}
