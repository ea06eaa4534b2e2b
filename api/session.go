package api

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/acl"
)

// apikeyJSON is the Apikey shape of bbdata-v2.md §1.2 plus scopes (API.md §3.4). The secret is
// whole only in the response that creates the key; later reads show its first 4 characters
// followed by "…" (API.md §2).
type apikeyJSON struct {
	ID             uint32   `json:"id"`
	Secret         string   `json:"secret"`
	ExpirationDate JSONTime `json:"expirationDate"`
	UserID         uint32   `json:"userId"`
	ReadOnly       bool     `json:"readOnly"`
	Description    *string  `json:"description"`
	Scopes         []string `json:"scopes"`
}

func toApikeyJSON(k *acl.Apikey) apikeyJSON {
	out := apikeyJSON{ID: k.ID, UserID: k.Principal, ReadOnly: k.ReadOnly, Description: k.Description}
	if k.Secret != "" {
		out.Secret = k.Secret
	} else {
		out.Secret = k.Prefix + "…"
	}
	if !k.Expires.IsZero() {
		out.ExpirationDate = JSONTime{MS: k.Expires.UnixMilli(), Set: true}
	}
	if k.Scopes != nil {
		out.Scopes = make([]string, len(k.Scopes))
		for i, s := range k.Scopes {
			out.Scopes[i] = s.String()
		}
	}
	return out
}

// userJSON is the User shape (never password or email).
type userJSON struct {
	ID           uint32   `json:"id"`
	Name         string   `json:"name"`
	CreationDate JSONTime `json:"creationdate"`
}

func toUserJSON(p *acl.Principal) userJSON {
	return userJSON{ID: p.ID, Name: p.Name, CreationDate: JSONTime{MS: p.Created.UnixMilli(), Set: true}}
}

// sessions serves /login, /logout, /me, /me/userGroups, /me/password and /apikeys.
type sessions struct {
	acl     *acl.ACL
	limiter *loginLimiter
	now     func() time.Time
}

func (h *sessions) register(r *Router) {
	r.HandleE(Route{Method: "POST", Path: "/login", Access: Public, JSONBody: true, Summary: "log in, get an apikey valid 13 h"}, h.login)
	r.HandleE(Route{Method: "POST", Path: "/logout", Access: Read, RestrictedOK: true, Summary: "delete the apikey used"}, h.logout)
	r.HandleE(Route{Method: "GET", Path: "/me", Access: Read, Summary: "the caller"}, h.me)
	r.HandleE(Route{Method: "GET", Path: "/me/userGroups", Access: Read, Scope: "read:auth", Summary: "the caller's user groups"}, h.meGroups)
	r.HandleE(Route{Method: "POST", Path: "/me/password", Access: Write, RestrictedOK: true, Scope: "manage:auth", JSONBody: true, Summary: "change one's own password"}, h.mePassword)
	r.HandleE(Route{Method: "GET", Path: "/apikeys", Access: Write, Scope: "read:auth", Summary: "the caller's apikeys, secrets masked"}, h.listKeys)
	r.HandleE(Route{Method: "PUT", Path: "/apikeys", Access: Write, RestrictedOK: true, Scope: "manage:auth", JSONBody: true, Summary: "create an apikey"}, h.createKey)
	r.HandleE(Route{Method: "POST", Path: "/apikeys/{apikeyId}", Access: Write, Scope: "manage:auth", JSONBody: true, RestrictedOK: true, Summary: "update an apikey"}, h.updateKey)
	r.HandleE(Route{Method: "DELETE", Path: "/apikeys/{apikeyId}", Access: Write, RestrictedOK: true, Scope: "manage:auth", Summary: "delete an apikey"}, h.deleteKey)
}

func (h *sessions) login(ctx *fasthttp.RequestCtx) error {
	var body struct {
		Username     *string `json:"username"`
		Password     *string `json:"password"`
		ClientID     *string `json:"clientId"`
		ClientSecret *string `json:"clientSecret"`
	}
	if err := DecodeJSON(ctx, &body, true); err != nil {
		return err
	}
	client := body.ClientID != nil || body.ClientSecret != nil
	var name, secret string
	if client {
		fields := map[string]string{}
		if body.ClientID == nil {
			fields["clientId"] = "must not be null"
		}
		if body.ClientSecret == nil {
			fields["clientSecret"] = "must not be null"
		}
		if len(fields) > 0 {
			return Validation(fields)
		}
		name, secret = *body.ClientID, *body.ClientSecret
	} else {
		fields := map[string]string{}
		if body.Username == nil {
			fields["username"] = "must not be null"
		}
		if body.Password == nil {
			fields["password"] = "must not be null"
		}
		if len(fields) > 0 {
			return Validation(fields)
		}
		name, secret = *body.Username, *body.Password
	}
	addr := ctx.RemoteIP().String()
	if wait := h.limiter.blocked(addr, name); wait > 0 {
		return &Error{Status: fasthttp.StatusTooManyRequests, Exception: ExcTooManyRequests,
			Details: "too many failed logins for this user name from this address; retry later", RetryAfter: wait}
	}
	if !h.limiter.acquire() {
		return &Error{Status: fasthttp.StatusTooManyRequests, Exception: ExcTooManyRequests,
			Details: "too many logins in progress; retry in a second", RetryAfter: 1}
	}
	var (
		key acl.Apikey
		err error
	)
	if client {
		key, err = h.acl.LoginClient(name, secret)
	} else {
		key, err = h.acl.Login(name, secret)
	}
	h.limiter.release()
	if err != nil {
		if errors.Is(err, acl.ErrWrongCredentials) {
			h.limiter.fail(addr, name)
		}
		return FromDomain(err, "user")
	}
	WriteJSON(ctx, toApikeyJSON(&key))
	return nil
}

func (h *sessions) logout(ctx *fasthttp.RequestCtx) error {
	id := CallerIdentity(ctx)
	err := h.acl.DeleteApikey(id.Principal.ID, id.Key.ID, true)
	if err != nil && !errors.Is(err, acl.ErrNotFound) {
		return FromDomain(err, "apikey")
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	return nil
}

func (h *sessions) me(ctx *fasthttp.RequestCtx) error {
	id := CallerIdentity(ctx)
	WriteJSON(ctx, toUserJSON(&id.Principal))
	return nil
}

func (h *sessions) meGroups(ctx *fasthttp.RequestCtx) error {
	id := CallerIdentity(ctx)
	onlyAdmin, err := BoolParam(ctx, "admin", false)
	if err != nil {
		return err
	}
	type item struct {
		ID    uint32 `json:"id"`
		Name  string `json:"name"`
		Admin bool   `json:"admin"`
	}
	out := []item{}
	// A superuser gets every group with admin true, so the filter keeps them all (§2.3).
	for _, mg := range h.acl.GroupsOf(id.Principal.ID) {
		if onlyAdmin && !mg.Admin {
			continue
		}
		out = append(out, item{mg.Group.ID, mg.Group.Name, mg.Admin})
	}
	WriteJSON(ctx, out)
	return nil
}

func (h *sessions) mePassword(ctx *fasthttp.RequestCtx) error {
	var body struct {
		Old *string `json:"old"`
		New *string `json:"new"`
	}
	if err := DecodeJSON(ctx, &body, true); err != nil {
		return err
	}
	fields := map[string]string{}
	if body.Old == nil {
		fields["old"] = "must not be null"
	}
	if body.New == nil {
		fields["new"] = "must not be null"
	} else if n := len([]rune(*body.New)); n < 5 || n > 45 {
		fields["new"] = "size must be between 5 and 45"
	}
	if len(fields) > 0 {
		return Validation(fields)
	}
	id := CallerIdentity(ctx)
	if id.Principal.Kind != acl.KindUser {
		return Forbidden("only users have passwords")
	}
	if err := h.acl.ChangePassword(id.Principal.ID, *body.Old, *body.New, id.Key.ID); err != nil {
		return FromDomain(err, "user")
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	return nil
}

func (h *sessions) listKeys(ctx *fasthttp.RequestCtx) error {
	id := CallerIdentity(ctx)
	keys := h.acl.Apikeys(id.Principal.ID)
	out := make([]apikeyJSON, len(keys))
	for i := range keys {
		out[i] = toApikeyJSON(&keys[i])
	}
	WriteJSON(ctx, out)
	return nil
}

func (h *sessions) createKey(ctx *fasthttp.RequestCtx) error {
	id := CallerIdentity(ctx)
	writable, err := BoolParam(ctx, "writable", false)
	if err != nil {
		return err
	}
	n := acl.NewApikey{ReadOnly: !writable}
	if args := ctx.QueryArgs(); args.Has("expirationDate") {
		ms, ok, err := ParseExpirationDate(string(args.Peek("expirationDate")), h.now().UnixMilli())
		if err != nil {
			return WrongParams("%v", err)
		}
		if ok {
			n.Expires = time.UnixMilli(ms).UTC()
		}
	}
	if args := ctx.QueryArgs(); args.Has("scopes") {
		scopes, err := acl.ParseScopes(string(args.Peek("scopes")))
		if err != nil {
			return WrongParams("%v", strings.TrimPrefix(err.Error(), "catalog: invalid input: "))
		}
		n.Scopes = scopes
	}
	var body struct {
		Description *string `json:"description"`
	}
	if err := DecodeJSON(ctx, &body, false); err != nil {
		return err
	}
	n.Description = body.Description
	key, err := h.acl.CreateApikey(id.Key, id.Principal.ID, n)
	if err != nil {
		return FromDomain(err, "apikey")
	}
	WriteJSON(ctx, toApikeyJSON(&key))
	return nil
}

func (h *sessions) updateKey(ctx *fasthttp.RequestCtx) error {
	id := CallerIdentity(ctx)
	kid, err := IDParam(ctx, "apikeyId")
	if err != nil {
		return err
	}
	var body struct {
		ReadOnly       *bool     `json:"readOnly"`
		ExpirationDate *string   `json:"expirationDate"`
		Description    *string   `json:"description"`
		Scopes         *[]string `json:"scopes"`
	}
	if err := DecodeJSON(ctx, &body, true); err != nil {
		return err
	}
	u := acl.ApikeyUpdate{ReadOnly: body.ReadOnly, Description: body.Description}
	if body.ExpirationDate != nil {
		ms, ok, err := ParseExpirationDate(*body.ExpirationDate, h.now().UnixMilli())
		if err != nil {
			return WrongParams("%v", err)
		}
		if ok {
			exp := time.UnixMilli(ms).UTC()
			u.Expires = &exp
		} else {
			u.ClearExpiry = true
		}
	}
	if body.Scopes != nil {
		scopes, err := acl.ParseScopes(strings.Join(*body.Scopes, ","))
		if err != nil {
			return WrongParams("%v", strings.TrimPrefix(err.Error(), "catalog: invalid input: "))
		}
		u.Scopes = scopes
	}
	key, err := h.acl.UpdateApikey(id.Key, id.Principal.ID, kid, u)
	if err != nil {
		return FromDomain(err, "apikey")
	}
	WriteJSON(ctx, toApikeyJSON(&key))
	return nil
}

func (h *sessions) deleteKey(ctx *fasthttp.RequestCtx) error {
	id := CallerIdentity(ctx)
	kid, err := IDParam(ctx, "apikeyId")
	if err != nil {
		return err
	}
	err = h.acl.DeleteApikey(id.Principal.ID, kid, false)
	Removed(ctx, err, "apikey")
	return nil
}

// loginLimiter bounds failed logins per (address, name) — 10 a minute, then 429 — and
// concurrent password hashes to 2 × cores (API.md §4).
type loginLimiter struct {
	slots chan struct{}
	now   func() time.Time
	mu    struct {
		sync.Mutex
		fails map[string][]time.Time
	}
}

const (
	loginFailLimit  = 10
	loginFailWindow = time.Minute
)

func newLoginLimiter(now func() time.Time) *loginLimiter {
	l := &loginLimiter{slots: make(chan struct{}, 2*runtime.NumCPU()), now: now}
	l.mu.fails = map[string][]time.Time{}
	return l
}

func (l *loginLimiter) acquire() bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (l *loginLimiter) release() { <-l.slots }

// blocked returns the seconds to wait when (addr, name) failed too often recently, else 0.
func (l *loginLimiter) blocked(addr, name string) int {
	k := addr + "\x00" + strings.ToLower(name)
	l.mu.Lock()
	defer l.mu.Unlock()
	recent := l.pruneLocked(k)
	if len(recent) < loginFailLimit {
		return 0
	}
	wait := recent[0].Add(loginFailWindow).Sub(l.now())
	return int(wait/time.Second) + 1
}

func (l *loginLimiter) fail(addr, name string) {
	k := addr + "\x00" + strings.ToLower(name)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.fails[k] = append(l.pruneLocked(k), l.now())
	if len(l.mu.fails) > 100_000 { // bound memory under a spray of names
		for key := range l.mu.fails {
			if len(l.pruneLocked(key)) == 0 {
				delete(l.mu.fails, key)
			}
		}
	}
}

func (l *loginLimiter) pruneLocked(k string) []time.Time {
	fs := l.mu.fails[k]
	cut := l.now().Add(-loginFailWindow)
	i := 0
	for i < len(fs) && fs[i].Before(cut) {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(l.mu.fails, k)
	} else {
		l.mu.fails[k] = fs
	}
	return fs
}
