package mapping

import "math"

// Location policies for events leaving Punchbridge (a sink's privacy:
// location setting).
const (
	LocationKeep   = "keep"   // as the platform reported it
	LocationDrop   = "drop"   // no position at all
	LocationCoarse = "coarse" // position rounded to about 100 m
)

// LocationPolicies lists the valid policies.
func LocationPolicies() []string { return []string{LocationKeep, LocationDrop, LocationCoarse} }

// coarseStep is the grid coarse positions snap to: 0.001° is 111 m of
// latitude, and at most 111 m of longitude.
const coarseStep = 0.001

// ReduceLocation returns e with its punch location reduced by policy.
// drop removes the coordinates and everything that reveals the place as
// precisely: the address and the Wi-Fi network. coarse snaps the
// coordinates to a 0.001° grid (about 100 m), raises the accuracy to at
// least that, and removes the address and the Wi-Fi network. Events
// without a punch, and keep, are returned unchanged. e itself is not
// modified.
func ReduceLocation(e Event, policy string) Event {
	if e.Punch == nil || policy == "" || policy == LocationKeep {
		return e
	}
	p := *e.Punch
	p.Address, p.WifiBSSID, p.WifiSSID = "", "", ""
	switch policy {
	case LocationDrop:
		p.Lat, p.Lng, p.AccuracyM = nil, nil, nil
	case LocationCoarse:
		if p.Lat != nil && p.Lng != nil {
			lat, lng := snap(*p.Lat), snap(*p.Lng)
			acc := 100.0
			if p.AccuracyM != nil && *p.AccuracyM > acc {
				acc = *p.AccuracyM
			}
			p.Lat, p.Lng, p.AccuracyM = &lat, &lng, &acc
		}
	}
	e.Punch = &p
	return e
}

func snap(v float64) float64 {
	return math.Round(v/coarseStep) * coarseStep
}
