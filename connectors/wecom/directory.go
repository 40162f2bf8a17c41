package wecom

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/lenient"
)

// listIDPageSize is the limit of user/list_id: 1..10000 (B4).
const listIDPageSize = 10000

// Codes of a member that left between list_id and user/get.
const (
	codeUserNotFound   = 60111
	codeUserNotExist   = 46004
	hrResultSucceeded  = 1
	maxListIDPageLoops = 10000
)

type listIDRequest struct {
	Cursor string `json:"cursor,omitempty"`
	Limit  int    `json:"limit"`
}

type listIDResponse struct {
	NextCursor lenient.String `json:"next_cursor"`
	DeptUser   []struct {
		UserID     lenient.String `json:"userid"`
		Department lenient.Int    `json:"department"`
	} `json:"dept_user"`
}

// listUserIDs pages through user/list_id (通讯录同步 secret only) and
// returns every userid once, in the order first seen, with its
// departments: the API gives one row per user and department.
func (c *Connector) listUserIDs(ctx context.Context) ([]string, map[string][]string, error) {
	var ids []string
	depts := map[string][]string{}
	cursor := ""
	for page := 0; ; page++ {
		if page == maxListIDPageLoops {
			return nil, nil, fmt.Errorf("wecom: list user ids: more than %d pages; the cursor does not advance", maxListIDPageLoops)
		}
		var resp listIDResponse
		if err := c.client.call(ctx, roleContacts, apiUserListID, listIDRequest{Cursor: cursor, Limit: listIDPageSize}, &resp); err != nil {
			return nil, nil, fmt.Errorf("wecom: list user ids from cursor %q: %w", cursor, err)
		}
		for _, du := range resp.DeptUser {
			id := string(du.UserID)
			if id == "" {
				continue
			}
			if _, ok := depts[id]; !ok {
				ids = append(ids, id)
				depts[id] = nil
			}
			depts[id] = addDept(depts[id], strconv.FormatInt(int64(du.Department), 10))
		}
		next := string(resp.NextCursor)
		if next == "" {
			return ids, depts, nil
		}
		if next == cursor {
			return nil, nil, fmt.Errorf("wecom: list user ids: next_cursor %q repeats the cursor", next)
		}
		cursor = next
	}
}

// userGetResponse is the part of user/get the directory reads (B4).
type userGetResponse struct {
	UserID  lenient.String `json:"userid"`
	Name    lenient.String `json:"name"`
	Email   lenient.String `json:"email"`
	Mobile  lenient.String `json:"mobile"`
	Extattr struct {
		Attrs []struct {
			Type lenient.Int    `json:"type"`
			Name lenient.String `json:"name"`
			Text struct {
				Value lenient.String `json:"value"`
			} `json:"text"`
		} `json:"attrs"`
	} `json:"extattr"`
}

type staffFieldID struct {
	FieldID int64 `json:"fieldid"`
	SubIdx  int   `json:"sub_idx"`
}

type staffInfoRequest struct {
	UserID   string         `json:"userid"`
	GetAll   bool           `json:"get_all"`
	FieldIDs []staffFieldID `json:"fieldids"`
}

type staffInfoResponse struct {
	FieldInfo []struct {
		FieldID     lenient.Int    `json:"fieldid"`
		Result      lenient.Int    `json:"result"`
		ValueString lenient.String `json:"value_string"`
		ValueUint64 lenient.String `json:"value_uint64"`
		ValueUint32 lenient.String `json:"value_uint32"`
		ValueInt64  lenient.String `json:"value_int64"`
	} `json:"field_info"`
}

// Users lists every member of the corp: user ids and departments from
// user/list_id, then the employee number from the configured field —
// extattr:<name> reads the member's custom attributes with user/get (name
// and every text attribute fill Name and Attrs), hr:<fieldid> reads that
// field of the 人事助手 roster with hr/get_staff_info (Attrs["hr:<id>"]).
// JobNumber carries the number, so that identity mapping by job_number
// works. A member who left between the two calls is left out.
func (c *Connector) Users(ctx context.Context) ([]connectors.User, error) {
	ids, depts, err := c.listUserIDs(ctx)
	if err != nil {
		return nil, err
	}
	users := make([]connectors.User, len(ids))
	gone := make([]bool, len(ids))
	var mu sync.Mutex
	err = c.forEach(ctx, len(ids), func(ctx context.Context, i int) error {
		u := connectors.User{UserID: ids[i], Departments: depts[ids[i]]}
		var err error
		switch c.field {
		case fromHR:
			err = c.fillFromRoster(ctx, &u)
		default:
			err = c.fillFromMember(ctx, &u)
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) && (apiErr.Code == codeUserNotFound || apiErr.Code == codeUserNotExist) {
			mu.Lock()
			gone[i] = true
			mu.Unlock()
			return nil
		}
		if err != nil {
			return err
		}
		users[i] = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := users[:0]
	for i, u := range users {
		if !gone[i] {
			out = append(out, u)
		}
	}
	return out, nil
}

// fillFromMember reads user/get and takes the number from the configured
// custom attribute.
func (c *Connector) fillFromMember(ctx context.Context, u *connectors.User) error {
	var resp userGetResponse
	if err := c.client.get(ctx, roleContacts, apiUserGet, url.Values{"userid": {u.UserID}}, &resp); err != nil {
		return fmt.Errorf("wecom: read member %s: %w", u.UserID, err)
	}
	u.Name, u.Email, u.Mobile = string(resp.Name), string(resp.Email), string(resp.Mobile)
	for _, a := range resp.Extattr.Attrs {
		if a.Type != 0 { // 0 text; 1 web page and 2 mini program hold links
			continue
		}
		name, value := string(a.Name), string(a.Text.Value)
		if u.Attrs == nil {
			u.Attrs = map[string]string{}
		}
		u.Attrs[name] = value
		if name == c.fieldName {
			u.JobNumber = value
		}
	}
	return nil
}

// fillFromRoster reads one roster field with hr/get_staff_info.
func (c *Connector) fillFromRoster(ctx context.Context, u *connectors.User) error {
	id, _ := strconv.ParseInt(c.fieldName, 10, 64)
	req := staffInfoRequest{UserID: u.UserID, FieldIDs: []staffFieldID{{FieldID: id}}}
	var resp staffInfoResponse
	if err := c.client.call(ctx, roleHR, apiStaffInfo, req, &resp); err != nil {
		return fmt.Errorf("wecom: read roster field %d of %s: %w", id, u.UserID, err)
	}
	for _, f := range resp.FieldInfo {
		if int64(f.FieldID) != id || f.Result != hrResultSucceeded {
			continue
		}
		v := firstOf(string(f.ValueString), string(f.ValueUint64), string(f.ValueUint32), string(f.ValueInt64))
		u.JobNumber = v
		u.Attrs = map[string]string{"hr:" + c.fieldName: v}
	}
	return nil
}

func addDept(list []string, d string) []string {
	for _, x := range list {
		if x == d {
			return list
		}
	}
	return append(list, d)
}
