package dingtalktest

import (
	"net/http"
	"sort"
)

// MaxPageSize is the largest size topapi/v2/user/list accepts. The platform
// does not state it; 100 is the value commonly seen, and a larger one gets
// 40035 参数非法, the code the page gives for a bad size.
const MaxPageSize = 100

type deptBody struct {
	DeptID *int64 `json:"dept_id"`
}

// listSubDept serves POST /topapi/v2/department/listsubid: the direct
// children of one department, never grandchildren.
func (s *Server) listSubDept(w http.ResponseWriter, r *http.Request) {
	var b deptBody
	if err := decodeBody(r, &b); err != nil || b.DeptID == nil {
		writeError(w, CodeInvalidParams, "dept_id必填")
		return
	}
	s.mu.Lock()
	found := false
	ids := []int64{}
	for _, d := range s.company.Depts {
		if d.ID == *b.DeptID {
			found = true
		}
		if d.Parent == *b.DeptID && d.ID != *b.DeptID {
			ids = append(ids, d.ID)
		}
	}
	s.mu.Unlock()
	if !found {
		writeError(w, CodeDeptNotFound, "")
		return
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	writeJSON(w, map[string]any{
		"errcode":    0,
		"errmsg":     "ok",
		"request_id": "fakelistsubid",
		"result":     map[string]any{"dept_id_list": ids},
	})
}

type userListBody struct {
	DeptID *int64 `json:"dept_id"`
	Cursor *int64 `json:"cursor"`
	Size   *int64 `json:"size"`
}

// userList serves POST /topapi/v2/user/list: the members of one department
// (sub-departments not included), a page of size at a time from cursor.
func (s *Server) userList(w http.ResponseWriter, r *http.Request) {
	var b userListBody
	if err := decodeBody(r, &b); err != nil || b.DeptID == nil || b.Cursor == nil || b.Size == nil {
		writeError(w, CodeInvalidParams, "dept_id、cursor、size必填")
		return
	}
	if *b.Size < 1 || *b.Size > MaxPageSize || *b.Cursor < 0 {
		writeError(w, CodeIllegalParam, "dept_id或cursor或size填写不合规范")
		return
	}
	s.mu.Lock()
	found := false
	for _, d := range s.company.Depts {
		found = found || d.ID == *b.DeptID
	}
	var members []User
	for _, u := range s.company.Users {
		for _, d := range u.Depts {
			if d == *b.DeptID {
				members = append(members, u)
				break
			}
		}
	}
	s.mu.Unlock()
	if !found {
		writeError(w, CodeDeptNotFound, "")
		return
	}
	start := min(int(*b.Cursor), len(members))
	end := min(start+int(*b.Size), len(members))
	list := make([]map[string]any, 0, end-start)
	for _, u := range members[start:end] {
		m := map[string]any{
			"userid":       u.UserID,
			"unionid":      "union" + u.UserID,
			"name":         u.Name,
			"mobile":       u.Mobile,
			"email":        u.Email,
			"dept_id_list": u.Depts,
			"active":       true,
			"admin":        false,
		}
		if u.JobNumber != "" {
			m["job_number"] = u.JobNumber
		}
		list = append(list, m)
	}
	result := map[string]any{"has_more": end < len(members), "list": list}
	if end < len(members) {
		result["next_cursor"] = end
	}
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "request_id": "fakeuserlist", "result": result})
}
