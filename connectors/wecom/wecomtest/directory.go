package wecomtest

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

// MaxListIDLimit is the largest limit user/list_id accepts (B4).
const MaxListIDLimit = 10000

// cursor is where a paged answer continues.
type cursor struct {
	api    string
	offset int
}

// newCursor stores where the next page starts and returns its opaque name;
// the caller holds mu.
func (s *Server) newCursor(api string, offset int, salt string) string {
	sum := sha256.Sum256([]byte(api + "/" + salt + "/" + strconv.Itoa(offset)))
	name := hex.EncodeToString(sum[:12])
	s.cursors[name] = cursor{api: api, offset: offset}
	return name
}

type listIDBody struct {
	Cursor string `json:"cursor"`
	Limit  *int   `json:"limit"`
}

// userListID serves POST user/list_id: one row per user and department,
// limit rows a page (default and maximum 10000), next_cursor empty on the
// last page.
func (s *Server) userListID(w http.ResponseWriter, r *http.Request) {
	var b listIDBody
	if err := decodeBody(r, &b); err != nil {
		s.fail(w, APIUserListID, CodeBadParam, "body is not JSON")
		return
	}
	limit := MaxListIDLimit
	if b.Limit != nil {
		limit = *b.Limit
	}
	if limit < 1 || limit > MaxListIDLimit {
		s.fail(w, APIUserListID, CodeBadParam, "limit must be 1 ~ 10000")
		return
	}
	s.mu.Lock()
	start := 0
	if b.Cursor != "" {
		c, ok := s.cursors[b.Cursor]
		if !ok || c.api != APIUserListID {
			s.mu.Unlock()
			s.fail(w, APIUserListID, CodeBadParam, "invalid cursor")
			return
		}
		start = c.offset
	}
	type row struct {
		user string
		dept int64
	}
	var rows []row
	for _, u := range s.company.Users {
		for _, d := range u.Departments {
			rows = append(rows, row{u.UserID, d})
		}
	}
	start = min(start, len(rows))
	end := min(start+limit, len(rows))
	page := make([]map[string]any, 0, end-start)
	for _, x := range rows[start:end] {
		page = append(page, map[string]any{"userid": x.user, "department": x.dept})
	}
	next := ""
	if end < len(rows) {
		next = s.newCursor(APIUserListID, end, s.company.CorpID)
	}
	s.mu.Unlock()
	s.ok(w, APIUserListID, map[string]any{"next_cursor": next, "dept_user": page})
}

// userGet serves GET user/get?userid=: the member with its 工号 custom
// attribute (absent for an unmapped member) and a web attribute, which
// carries a link rather than a value.
func (s *Server) userGet(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("userid")
	s.mu.Lock()
	i, ok := s.idx.users[strings.ToLower(id)]
	var u User
	if ok {
		u = s.company.Users[i]
	}
	s.mu.Unlock()
	if !ok {
		s.fail(w, APIUserGet, CodeUserNotFound, "")
		return
	}
	attrs := []map[string]any{
		{"type": 1, "name": "个人主页", "web": map[string]any{"url": "https://example.com/" + u.UserID, "title": "主页"}},
		{"type": 0, "name": "岗位级别", "text": map[string]any{"value": "P5"}},
	}
	if u.JobNumber != "" {
		attrs = append(attrs, map[string]any{"type": 0, "name": EmployeeAttr, "text": map[string]any{"value": u.JobNumber}})
	}
	mainDept := int64(1)
	if len(u.Departments) > 0 {
		mainDept = u.Departments[0]
	}
	s.ok(w, APIUserGet, map[string]any{
		"userid":          u.UserID,
		"name":            u.Name,
		"department":      u.Departments,
		"main_department": mainDept,
		"position":        u.Position,
		"status":          1,
		"extattr":         map[string]any{"attrs": attrs},
	})
}

type staffInfoBody struct {
	UserID   string `json:"userid"`
	GetAll   bool   `json:"get_all"`
	FieldIDs []struct {
		FieldID int64 `json:"fieldid"`
		SubIdx  int   `json:"sub_idx"`
	} `json:"fieldids"`
}

// staffInfo serves POST hr/get_staff_info: the roster fields asked for,
// of which only RosterFieldJobNumber (a string field) exists; others
// answer result 3 (字段未找到), an empty 工号 result 2.
func (s *Server) staffInfo(w http.ResponseWriter, r *http.Request) {
	var b staffInfoBody
	if err := decodeBody(r, &b); err != nil || (!b.GetAll && len(b.FieldIDs) == 0) {
		s.fail(w, APIStaffInfo, CodeBadParam, "fieldids must not be empty unless get_all")
		return
	}
	s.mu.Lock()
	i, ok := s.idx.users[strings.ToLower(b.UserID)]
	var u User
	if ok {
		u = s.company.Users[i]
	}
	s.mu.Unlock()
	if !ok {
		s.fail(w, APIStaffInfo, CodeUserNotFound, "")
		return
	}
	if b.GetAll {
		b.FieldIDs = b.FieldIDs[:0]
		b.FieldIDs = append(b.FieldIDs, struct {
			FieldID int64 `json:"fieldid"`
			SubIdx  int   `json:"sub_idx"`
		}{FieldID: RosterFieldJobNumber})
	}
	info := []map[string]any{}
	for _, f := range b.FieldIDs {
		m := map[string]any{"fieldid": f.FieldID, "sub_idx": f.SubIdx}
		switch {
		case f.FieldID != RosterFieldJobNumber:
			m["result"] = 3
		case u.JobNumber == "":
			m["result"] = 2
		default:
			m["result"], m["value_type"], m["value_string"] = 1, 1, u.JobNumber
		}
		info = append(info, m)
	}
	s.ok(w, APIStaffInfo, map[string]any{"field_info": info})
}
