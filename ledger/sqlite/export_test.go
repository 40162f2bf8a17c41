package sqlite

// DueQuery is Due's statement, for the test of its query plan.
const DueQuery = dueQuery

// EventsQuery is Events' statement, for the test of its query plan.
const EventsQuery = eventsOf

// LatestDaysQuery is PutDays' read of the stored versions, for the test of
// its query plan.
var LatestDaysQuery = latestDaysQuery

// DirtyDaysBetweenQuery is DirtyDaysBetween's statement, for the test of
// its query plan.
const DirtyDaysBetweenQuery = dirtyDaysBetweenQuery

// DeliveredQuery is DeliveredAll's statement for n records, for the test
// of its query plan.
var DeliveredQuery = deliveredQuery

// AllLatestDaysQuery is Days' statement for every employee, for the test
// of its query plan.
const AllLatestDaysQuery = allLatestDaysQuery

// UnlatestQuery is PutDays' statement that supersedes n stored versions,
// for the test of its query plan.
var UnlatestQuery = unlatestQuery

// EventKeyDay is the id_day of an event id, for the test that holds it to
// the column's SQL expression.
var EventKeyDay = eventKeyDay

// LookupQuery is the writer's read of n ids' stored revisions, for the
// test of its query plan.
var LookupQuery = lookupQuery

// RawForQuery and RevisionQuery are RawFor's statement and the raw
// payloads' search for their revision, for the tests of their query plans.
const (
	RawForQuery   = rawForQuery
	RevisionQuery = revisionQuery
)
