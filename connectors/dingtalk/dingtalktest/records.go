package dingtalktest

import (
	"math"
	"time"
)

// records holds a server's punch records packed: times as Unix
// nanoseconds with the index of their location, and every string as the
// index of one copy. A Record is 336 bytes, most of it three time.Time
// and thirteen string headers; a packed one is 136. A demo of 1.2 million
// punches held 416 MB of records for its whole run.
type records struct {
	recs []packedRecord
	strs []string          // strs[0] is ""
	str  map[string]uint32 // index in strs
	locs []*time.Location  // locs[0] is UTC
}

type packedRecord struct {
	id, groupID, planID int64
	check, base, work   int64 // packedTime
	lat, lng, accuracy  float64
	user                uint32
	checkLoc, baseLoc   uint8
	workLoc             uint8
	hasLocation         bool
	checkType, timeRes  uint32
	locationRes, source uint32
	locMethod, isLegal  uint32
	invalidType         uint32
	invalidMsg, address uint32
	device, deviceSN    uint32
	ssid, mac           uint32
}

// zeroTime stands for the zero time.Time, whose Unix nanoseconds do not
// fit an int64.
const zeroTime = math.MinInt64

func newRecords() *records {
	return &records{strs: []string{""}, str: map[string]uint32{"": 0}, locs: []*time.Location{time.UTC}}
}

func (rs *records) len() int { return len(rs.recs) }

func (rs *records) intern(s string) uint32 {
	if i, ok := rs.str[s]; ok {
		return i
	}
	i := uint32(len(rs.strs))
	rs.strs = append(rs.strs, s)
	rs.str[s] = i
	return i
}

func (rs *records) packTime(t time.Time) (int64, uint8) {
	if t.IsZero() {
		return zeroTime, 0
	}
	loc := t.Location()
	for i, l := range rs.locs {
		if l == loc {
			return t.UnixNano(), uint8(i)
		}
	}
	if len(rs.locs) == math.MaxUint8+1 {
		panic("dingtalktest: records in more than 256 time zones")
	}
	rs.locs = append(rs.locs, loc)
	return t.UnixNano(), uint8(len(rs.locs) - 1)
}

func (rs *records) unpackTime(ns int64, loc uint8) time.Time {
	if ns == zeroTime {
		return time.Time{}
	}
	return time.Unix(0, ns).In(rs.locs[loc])
}

// add appends r.
func (rs *records) add(r Record) {
	p := packedRecord{
		id: r.ID, groupID: r.GroupID, planID: r.PlanID,
		lat: r.Lat, lng: r.Lng, accuracy: r.Accuracy, hasLocation: r.HasLocation,
		user: rs.intern(r.UserID), checkType: rs.intern(r.CheckType), timeRes: rs.intern(r.TimeResult),
		locationRes: rs.intern(r.LocationResult), source: rs.intern(r.SourceType), locMethod: rs.intern(r.LocationMethod),
		isLegal: rs.intern(r.IsLegal), invalidType: rs.intern(r.InvalidRecordType), invalidMsg: rs.intern(r.InvalidRecordMsg),
		address: rs.intern(r.Address), device: rs.intern(r.DeviceID), deviceSN: rs.intern(r.DeviceSN),
		ssid: rs.intern(r.SSID), mac: rs.intern(r.MacAddr),
	}
	p.check, p.checkLoc = rs.packTime(r.CheckTime)
	p.base, p.baseLoc = rs.packTime(r.BaseCheckTime)
	p.work, p.workLoc = rs.packTime(r.WorkDate)
	rs.recs = append(rs.recs, p)
}

// at returns record i.
func (rs *records) at(i int) Record {
	p := &rs.recs[i]
	s := rs.strs
	return Record{
		ID: p.id, UserID: s[p.user],
		CheckTime: rs.unpackTime(p.check, p.checkLoc), BaseCheckTime: rs.unpackTime(p.base, p.baseLoc),
		WorkDate:  rs.unpackTime(p.work, p.workLoc),
		CheckType: s[p.checkType], TimeResult: s[p.timeRes], LocationResult: s[p.locationRes], SourceType: s[p.source],
		LocationMethod: s[p.locMethod], IsLegal: s[p.isLegal], InvalidRecordType: s[p.invalidType],
		InvalidRecordMsg: s[p.invalidMsg], HasLocation: p.hasLocation, Lat: p.lat, Lng: p.lng, Accuracy: p.accuracy,
		Address: s[p.address], DeviceID: s[p.device], DeviceSN: s[p.deviceSN], SSID: s[p.ssid], MacAddr: s[p.mac],
		GroupID: p.groupID, PlanID: p.planID,
	}
}

// all returns every record, unpacked.
func (rs *records) all() []Record {
	out := make([]Record, len(rs.recs))
	for i := range rs.recs {
		out[i] = rs.at(i)
	}
	return out
}

// key returns record i's ID, user id and check time in Unix nanoseconds,
// without unpacking the rest.
func (rs *records) key(i int) (id int64, user string, check int64) {
	p := &rs.recs[i]
	return p.id, rs.strs[p.user], p.check
}
