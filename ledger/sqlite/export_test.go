package sqlite

// DueQuery is Due's statement, for the test of its query plan.
const DueQuery = dueQuery
