package mapping

import (
	"math"
	"strconv"

	"gopkg.in/yaml.v3"
)

// unitConv converts a quantity between time units with a stated rounding.
type unitConv struct {
	factor float64
	round  func(float64) float64
	places int     // decimals kept
	step   float64 // round to a multiple of step; 0: to places
}

var unitSeconds = map[string]float64{"seconds": 1, "minutes": 60, "hours": 3600, "days": 0}

var roundModes = map[string]func(float64) float64{
	"half_up":   math.Round, // halves away from zero
	"half_even": math.RoundToEven,
	"down":      math.Trunc, // toward zero
	"up": func(x float64) float64 { // away from zero
		if x < 0 {
			return math.Floor(x)
		}
		return math.Ceil(x)
	},
}

func (c *compiler) unitConv(n *yaml.Node, where string) *unitConv {
	if n.Kind != yaml.MappingNode {
		c.errorf(n.Line, "%s: want {from: minutes, to: hours, round: half_up, places: 2}, found %s", where, describe(n))
		return nil
	}
	var from, to, round string
	var places, step, perDay float64
	var hasPlaces, hasStep bool
	for _, kv := range c.p.pairs(n, where+".") {
		k, v := kv[0], deref(kv[1])
		switch k.Value {
		case "from":
			from = c.p.text(v, where+".from")
		case "to":
			to = c.p.text(v, where+".to")
		case "round":
			round = c.p.text(v, where+".round")
		case "places":
			places, hasPlaces = c.number(v, k.Line, where+".places"), true
		case "step":
			step, hasStep = c.number(v, k.Line, where+".step"), true
		case "hours_per_day":
			perDay = c.number(v, k.Line, where+".hours_per_day")
		default:
			c.p.unknown(k, where+".", []string{"from", "to", "round", "places", "step", "hours_per_day"})
		}
	}
	u := &unitConv{}
	secs := func(name, key string) float64 {
		s, ok := unitSeconds[name]
		switch {
		case !ok:
			c.errorf(n.Line, "%s.%s %q: want seconds, minutes, hours or days", where, key, name)
		case name == "days" && perDay <= 0:
			c.errorf(n.Line, "%s.%s days: a day of work is not 24h; set hours_per_day, e.g. 8", where, key)
		case name == "days":
			s = perDay * 3600
		}
		return s
	}
	f, t := secs(from, "from"), secs(to, "to")
	if f > 0 && t > 0 {
		u.factor = f / t
	}
	if u.round = roundModes[round]; u.round == nil {
		if round == "" {
			c.errorf(n.Line, "%s: state the rounding with round: half_up, half_even, down or up", where)
		} else {
			c.errorf(n.Line, "%s.round %q: want half_up, half_even, down or up", where, round)
		}
	}
	switch {
	case hasPlaces && hasStep:
		c.errorf(n.Line, "%s: give places or step, not both", where)
	case hasStep && step <= 0:
		c.errorf(n.Line, "%s.step: must be more than 0, e.g. 0.5 for half hours", where)
	case hasStep:
		u.step = step
		u.places = decimals(step)
	case places < 0 || places > 6 || places != math.Trunc(places):
		c.errorf(n.Line, "%s.places: want a whole number from 0 to 6", where)
	default:
		u.places = int(places)
	}
	return u
}

func (c *compiler) number(n *yaml.Node, line int, where string) float64 {
	if n == nil || n.Kind != yaml.ScalarNode {
		c.errorf(line, "%s: want a number, found %s", where, describe(n))
		return 0
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil {
		c.errorf(line, "%s %q: want a number", where, n.Value)
	}
	return f
}

// decimals counts the decimals a step such as 0.25 needs.
func decimals(step float64) int {
	for d := 0; d < 6; d++ {
		if s := step * math.Pow10(d); math.Abs(s-math.Round(s)) < 1e-9 {
			return d
		}
	}
	return 6
}

func (u *unitConv) apply(v mval) (mval, bool, string) {
	num, _, reason := toNumber(v)
	if reason != "" {
		return v, keep, "is not a number"
	}
	if num.k == vNone {
		return num, keep, ""
	}
	x := num.n * u.factor
	if u.step > 0 {
		x = u.round(clean(x/u.step)) * u.step
	} else {
		p := math.Pow10(u.places)
		x = u.round(clean(x*p)) / p
	}
	if x == 0 {
		x = 0 // no "-0"
	}
	return numberVal(x, u.places), keep, ""
}

// clean drops the binary noise of a decimal product (904.99999999 for
// 9.05·100) so that a half is rounded as the half it is.
func clean(x float64) float64 { return math.Round(x*1e9) / 1e9 }
