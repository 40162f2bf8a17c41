package reconcile

import (
	"math"

	"github.com/punchbridge/punchbridge/mapping"
)

// earthRadiusKm is the mean Earth radius (IUGG).
const earthRadiusKm = 6371.0088

// distanceKm is the haversine distance between two located punches, on
// WGS-84, less their accuracy radii, never below 0.
func distanceKm(a, b *mapping.Punch) float64 {
	lat1, lng1 := toWGS84(*a.Lat, *a.Lng, a.Datum)
	lat2, lng2 := toWGS84(*b.Lat, *b.Lng, b.Datum)
	d := haversineKm(lat1, lng1, lat2, lng2)
	if a.AccuracyM != nil {
		d -= *a.AccuracyM / 1000
	}
	if b.AccuracyM != nil {
		d -= *b.AccuracyM / 1000
	}
	return max(d, 0)
}

// haversineKm is the great-circle distance between two WGS-84 points.
func haversineKm(lat1, lng1, lat2, lng2 float64) float64 {
	const rad = math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLng := (lng2 - lng1) * rad
	s1, s2 := math.Sin(dLat/2), math.Sin(dLng/2)
	h := s1*s1 + math.Cos(lat1*rad)*math.Cos(lat2*rad)*s2*s2
	return 2 * earthRadiusKm * math.Asin(math.Sqrt(min(h, 1)))
}

// toWGS84 converts a position in datum ("" or wgs84, gcj02, bd09) to
// WGS-84. Chinese platforms report GCJ-02 (WeCom) or BD-09, which lie
// 300–700 m off WGS-84 in China; comparing punches from two platforms
// without converting would fake a location jump. The GCJ-02 inverse is the
// usual one-step approximation, good to a few metres.
func toWGS84(lat, lng float64, datum string) (float64, float64) {
	switch datum {
	case "bd09":
		lat, lng = bd09ToGCJ02(lat, lng)
		fallthrough
	case "gcj02":
		if outOfChina(lat, lng) {
			return lat, lng
		}
		dLat, dLng := gcjOffset(lat, lng)
		return lat - dLat, lng - dLng
	}
	return lat, lng
}

// wgs84ToGCJ02 is the forward GCJ-02 transform (used by tests).
func wgs84ToGCJ02(lat, lng float64) (float64, float64) {
	if outOfChina(lat, lng) {
		return lat, lng
	}
	dLat, dLng := gcjOffset(lat, lng)
	return lat + dLat, lng + dLng
}

// GCJ-02 constants: the Krasovsky 1940 ellipsoid.
const (
	gcjA  = 6378245.0
	gcjEE = 0.00669342162296594323
)

func outOfChina(lat, lng float64) bool {
	return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271
}

// gcjOffset is the GCJ-02 displacement at a WGS-84 position, in degrees.
func gcjOffset(lat, lng float64) (float64, float64) {
	x, y := lng-105.0, lat-35.0
	dLat := -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	dLat += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	dLat += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	dLat += (160.0*math.Sin(y/12.0*math.Pi) + 320*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	dLng := 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	dLng += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	dLng += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	dLng += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0
	radLat := lat / 180.0 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - gcjEE*magic*magic
	sqrtMagic := math.Sqrt(magic)
	dLat = (dLat * 180.0) / ((gcjA * (1 - gcjEE)) / (magic * sqrtMagic) * math.Pi)
	dLng = (dLng * 180.0) / (gcjA / sqrtMagic * math.Cos(radLat) * math.Pi)
	return dLat, dLng
}

// bd09ToGCJ02 undoes Baidu's extra offset on top of GCJ-02.
func bd09ToGCJ02(lat, lng float64) (float64, float64) {
	const xPi = math.Pi * 3000.0 / 180.0
	x, y := lng-0.0065, lat-0.006
	z := math.Sqrt(x*x+y*y) - 0.00002*math.Sin(y*xPi)
	theta := math.Atan2(y, x) - 0.000003*math.Cos(x*xPi)
	return z * math.Sin(theta), z * math.Cos(theta)
}
