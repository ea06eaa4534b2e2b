package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tsgate/tsgate/bench/dataset"
)

// APIClient speaks tsgate's management API (BBData v2) with one principal's credentials. It
// is what the benchmarks use to set up their world; it is not on the measured path.
type APIClient struct {
	URL    string // base URL, e.g. http://127.0.0.1:8080
	User   uint32 // principal id (bbuser)
	Secret string // apikey secret (bbtoken)
	HTTP   *http.Client
}

// StatusError is a non-2xx answer of the API.
type StatusError struct {
	Method, Path string
	Code         int
	Body         string
}

func (e *StatusError) Error() string {
	body := e.Body
	if len(body) > 300 {
		body = body[:300] + "…"
	}
	return fmt.Sprintf("bench: %s %s answered %d %s: %s", e.Method, e.Path, e.Code, http.StatusText(e.Code), strings.TrimSpace(body))
}

// Login logs in with a user name and password and returns a client carrying its apikey.
func Login(ctx context.Context, baseURL, user, password string) (*APIClient, error) {
	c := &APIClient{URL: strings.TrimRight(baseURL, "/"), HTTP: &http.Client{Timeout: 60 * time.Second}}
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	var k struct {
		UserID uint32 `json:"userId"`
		Secret string `json:"secret"`
	}
	if err := c.Do(ctx, "POST", "/login", body, &k); err != nil {
		return nil, fmt.Errorf("bench: cannot log in as %q at %s: %w", user, baseURL, err)
	}
	if k.Secret == "" {
		return nil, fmt.Errorf("bench: login at %s returned no secret", baseURL)
	}
	c.User, c.Secret = k.UserID, k.Secret
	return c, nil
}

// Do sends one JSON request and decodes a 2xx answer into out (when non-nil).
func (c *APIClient) Do(ctx context.Context, method, path string, body []byte, out any) error {
	_, err := c.Raw(ctx, method, path, "application/json", body, out)
	return err
}

// Raw sends one request and returns the 2xx body (decoded into out when non-nil).
func (c *APIClient) Raw(ctx context.Context, method, path, ctype string, body []byte, out any) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if len(body) > 0 && ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.Secret != "" {
		req.Header.Set("bbuser", strconv.FormatUint(uint64(c.User), 10))
		req.Header.Set("bbtoken", c.Secret)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 != 2 {
		return b, &StatusError{Method: method, Path: path, Code: res.StatusCode, Body: string(b)}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return b, fmt.Errorf("bench: cannot decode the answer of %s %s: %w", method, path, err)
		}
	}
	return b, nil
}

// World is what Setup created: a user group, the dataset's objects and their credentials.
type World struct {
	Group   uint32
	IDs     []uint32 // object id of dataset object o
	Tokens  []string // object token of dataset object o (when asked for)
	KeyUser uint32   // principal of the writable apikey (when asked for)
	KeySecr string   // its secret
}

// SetupOptions says what Setup creates.
type SetupOptions struct {
	Objects int    // dataset objects to create
	Name    string // prefix of the group and object names; "" = "bench-<unix ms>"
	Tokens  bool   // one object token per object (BBData JSON ingest)
	Apikey  bool   // a writable apikey (line protocol ingest)
	Chunk   int    // objects per bulk request; 0 = 1000
}

// Setup creates, through the API, a user group, opts.Objects objects with the units of the
// standard dataset (DESIGN.md §8: °C, %, W by o % 3), and their tokens and/or a writable apikey.
func (c *APIClient) Setup(ctx context.Context, opts SetupOptions) (*World, error) {
	if opts.Name == "" {
		opts.Name = fmt.Sprintf("bench-%d", time.Now().UnixMilli())
	}
	if opts.Chunk <= 0 {
		opts.Chunk = 1000
	}
	w := &World{}
	var g struct {
		ID uint32 `json:"id"`
	}
	body, _ := json.Marshal(map[string]string{"name": opts.Name})
	if err := c.Do(ctx, "PUT", "/userGroups", body, &g); err != nil {
		return nil, fmt.Errorf("bench: cannot create user group: %w", err)
	}
	w.Group = g.ID
	type newObject struct {
		Name  string `json:"name"`
		Owner uint32 `json:"owner"`
		Unit  string `json:"unitSymbol"`
	}
	for lo := 0; lo < opts.Objects; lo += opts.Chunk {
		hi := min(lo+opts.Chunk, opts.Objects)
		objs := make([]newObject, 0, hi-lo)
		for o := lo; o < hi; o++ {
			objs = append(objs, newObject{Name: fmt.Sprintf("%s-%d", opts.Name, o), Owner: w.Group, Unit: dataset.KindOf(o).Unit()})
		}
		body, _ := json.Marshal(objs)
		var got []struct {
			ID uint32 `json:"id"`
		}
		if err := c.Do(ctx, "PUT", "/objects/bulk", body, &got); err != nil {
			return nil, fmt.Errorf("bench: cannot create objects %d..%d: %w", lo, hi-1, err)
		}
		if len(got) != hi-lo {
			return nil, fmt.Errorf("bench: PUT /objects/bulk created %d objects, want %d", len(got), hi-lo)
		}
		for _, x := range got {
			w.IDs = append(w.IDs, x.ID)
		}
	}
	if opts.Tokens {
		type newToken struct {
			ObjectID uint32 `json:"objectId"`
		}
		w.Tokens = make([]string, opts.Objects)
		for lo := 0; lo < opts.Objects; lo += opts.Chunk {
			hi := min(lo+opts.Chunk, opts.Objects)
			req := make([]newToken, 0, hi-lo)
			for o := lo; o < hi; o++ {
				req = append(req, newToken{w.IDs[o]})
			}
			body, _ := json.Marshal(req)
			var got []struct {
				ObjectID uint32 `json:"objectId"`
				Token    string `json:"token"`
			}
			if err := c.Do(ctx, "PUT", "/objects/bulk/tokens", body, &got); err != nil {
				return nil, fmt.Errorf("bench: cannot create tokens of objects %d..%d: %w", lo, hi-1, err)
			}
			byID := make(map[uint32]string, len(got))
			for _, t := range got {
				byID[t.ObjectID] = t.Token
			}
			for o := lo; o < hi; o++ {
				if w.Tokens[o] = byID[w.IDs[o]]; w.Tokens[o] == "" {
					return nil, fmt.Errorf("bench: no token returned for object %d", w.IDs[o])
				}
			}
		}
	}
	if opts.Apikey {
		var k struct {
			UserID uint32 `json:"userId"`
			Secret string `json:"secret"`
		}
		if err := c.Do(ctx, "PUT", "/apikeys?writable=true", nil, &k); err != nil {
			return nil, fmt.Errorf("bench: cannot create a writable apikey: %w", err)
		}
		w.KeyUser, w.KeySecr = k.UserID, k.Secret
		if w.KeyUser == 0 {
			w.KeyUser = c.User
		}
	}
	return w, nil
}
