// Package identity maps platform users (a DingTalk or WeCom user id) to HR
// employee ids, and keeps quarantined events moving when the mapping
// changes.
//
// A Resolver gives one user's employee id. The sources are:
//
//   - a directory field (DirectoryField): the job number (工号), mobile,
//     email, user id, or a custom attribute (attr:<name>) holds the id;
//   - a CSV table (Table): HR's list of key → employee id, where the key
//     is such a directory field;
//   - an HTTP lookup against the HR system (Lookup), cached.
//
// Refresh lists every directory's users, resolves each and updates a
// mapping.Identities, returning exactly the users whose employee id
// changed; Remap then re-maps the quarantined events of those users, and
// of no one else, so that a mapping change never means a resync of
// everything.
package identity
