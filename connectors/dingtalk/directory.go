package dingtalk

import (
	"context"
	"fmt"
	"strconv"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/lenient"
)

// userPageSize is the page size of topapi/v2/user/list. The platform does
// not state its maximum; 100 is the value commonly accepted.
const userPageSize = 100

type deptRequest struct {
	DeptID int64 `json:"dept_id"`
}

type listSubDeptResponse struct {
	Result struct {
		DeptIDList lenient.Ints `json:"dept_id_list"`
	} `json:"result"`
}

type userListRequest struct {
	DeptID int64 `json:"dept_id"`
	Cursor int64 `json:"cursor"`
	Size   int64 `json:"size"`
}

type userListResponse struct {
	Result struct {
		HasMore    lenient.Bool `json:"has_more"`
		NextCursor lenient.Int  `json:"next_cursor"`
		List       []directUser `json:"list"`
	} `json:"result"`
}

type directUser struct {
	UserID     lenient.String `json:"userid"`
	Name       lenient.String `json:"name"`
	JobNumber  lenient.String `json:"job_number"`
	Mobile     lenient.String `json:"mobile"`
	Email      lenient.String `json:"email"`
	DeptIDList lenient.Ints   `json:"dept_id_list"`
}

// Users lists the organisation's users, walking the departments from the
// root department down. A walk is reused for directory_ttl, so that a run
// that maps identities and then pulls walks the directory once.
func (c *Connector) Users(ctx context.Context) ([]connectors.User, error) {
	c.dirMu.Lock()
	defer c.dirMu.Unlock()
	if c.dirUsers != nil && c.now().Sub(c.dirAt) < c.cfg.DirectoryTTL {
		return append([]connectors.User(nil), c.dirUsers...), nil
	}
	users, err := c.walkDirectory(ctx)
	if err != nil {
		return nil, err
	}
	c.dirUsers, c.dirAt = users, c.now()
	return append([]connectors.User(nil), users...), nil
}

// walkDirectory lists every user of the organization: it walks the departments
// from the configured root down through every level (listsubid gives only
// direct children), lists each department's members page by page, and
// reports a user who sits in several departments once, with all of them.
// JobNumber carries job_number (员工工号), the default identity key.
func (c *Connector) walkDirectory(ctx context.Context) ([]connectors.User, error) {
	depts, err := c.departments(ctx)
	if err != nil {
		return nil, err
	}
	var users []connectors.User
	index := map[string]int{}
	for _, dept := range depts {
		err := c.deptMembers(ctx, dept, func(u directUser) {
			id := string(u.UserID)
			if id == "" {
				return
			}
			i, seen := index[id]
			if !seen {
				i = len(users)
				index[id] = i
				users = append(users, connectors.User{
					UserID:    id,
					Name:      string(u.Name),
					JobNumber: string(u.JobNumber),
					Mobile:    string(u.Mobile),
					Email:     string(u.Email),
				})
			}
			for _, d := range append(u.DeptIDList, dept) {
				users[i].Departments = addDept(users[i].Departments, strconv.FormatInt(d, 10))
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return users, nil
}

// departments returns the root and every department below it, parents
// before children. A department listed twice (the platform should not, but
// a cycle would otherwise never end) is visited once.
func (c *Connector) departments(ctx context.Context) ([]int64, error) {
	root := c.cfg.RootDept
	seen := map[int64]bool{root: true}
	order := []int64{root}
	for i := 0; i < len(order); i++ {
		var resp listSubDeptResponse
		if err := c.client.call(ctx, apiListSubDept, deptRequest{DeptID: order[i]}, &resp); err != nil {
			return nil, fmt.Errorf("dingtalk: list sub-departments of %d: %w", order[i], err)
		}
		for _, id := range resp.Result.DeptIDList {
			if !seen[id] {
				seen[id] = true
				order = append(order, id)
			}
		}
	}
	return order, nil
}

// deptMembers pages through one department's members.
func (c *Connector) deptMembers(ctx context.Context, dept int64, each func(directUser)) error {
	var cursor int64
	for {
		var resp userListResponse
		req := userListRequest{DeptID: dept, Cursor: cursor, Size: userPageSize}
		if err := c.client.call(ctx, apiUserList, req, &resp); err != nil {
			return fmt.Errorf("dingtalk: list users of department %d from cursor %d: %w", dept, cursor, err)
		}
		for _, u := range resp.Result.List {
			each(u)
		}
		if !resp.Result.HasMore.V {
			return nil
		}
		next := int64(resp.Result.NextCursor)
		if next <= cursor {
			return fmt.Errorf("dingtalk: list users of department %d: has_more with next_cursor %d not after cursor %d", dept, next, cursor)
		}
		cursor = next
	}
}

func addDept(list []string, d string) []string {
	for _, x := range list {
		if x == d {
			return list
		}
	}
	return append(list, d)
}
