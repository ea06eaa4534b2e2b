package api

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/acl"
)

// Identity is what authentication resolved for a request on a protected route: the apikey used
// and its principal. Handlers get it with CallerIdentity.
type Identity struct {
	Key       *acl.Apikey
	Principal acl.Principal
}

// CallerIdentity returns the request's authenticated identity, or nil on a public route.
func CallerIdentity(ctx *fasthttp.RequestCtx) *Identity {
	id, _ := Caller(ctx).(*Identity)
	return id
}

// KeyAuth authenticates requests against the acl's apikeys with the check order of
// bbdata-v2.md §1.1: credentials missing → 401; bbuser not an integer or Basic not base64 →
// 403 BadApikeyException; no such unexpired key → 403 BadApikeyException; a read-only key on a
// write route → 403 ForbiddenException. It runs before any body parsing or lookup.
type KeyAuth struct {
	ACL *acl.ACL
}

const missingCredentials = "This resource is protected. Missing authorization headers: bbuser=<user_id:int>, bbtoken=<token:string>"

// Authenticate implements Authenticator.
func (k KeyAuth) Authenticate(ctx *fasthttp.RequestCtx, route *Route) (any, error) {
	user, secret, bearer, err := credentials(ctx, route)
	if err != nil {
		return nil, err
	}
	if secret == "" || (!bearer && user == "") {
		return nil, &Error{Status: fasthttp.StatusUnauthorized, Exception: ExcUnauthorized, Details: missingCredentials}
	}
	var (
		key *acl.Apikey
		p   acl.Principal
	)
	if bearer {
		key, p, err = k.ACL.AuthenticateBearer(secret)
		if err != nil {
			return nil, Errorf(fasthttp.StatusForbidden, ExcBadApikey, "Access denied: bad apikey")
		}
	} else {
		uid, perr := strconv.ParseUint(user, 10, 32)
		if perr != nil {
			if _, ierr := strconv.ParseInt(user, 10, 64); ierr != nil {
				return nil, Errorf(fasthttp.StatusForbidden, ExcBadApikey, "Wrong header bbuser=%s. Should be an integer", user)
			}
			return nil, Errorf(fasthttp.StatusForbidden, ExcBadApikey, "Access denied for user %s : bad apikey", user)
		}
		key, p, err = k.ACL.Authenticate(uint32(uid), secret)
		if err != nil {
			return nil, Errorf(fasthttp.StatusForbidden, ExcBadApikey, "Access denied for user %d : bad apikey", uid)
		}
	}
	if route.Access == Write && key.ReadOnly {
		return nil, Forbidden("Access denied for user %d: this apikey is read-only", p.ID)
	}
	if route.Method != "GET" && route.Method != "HEAD" && !route.RestrictedOK && k.ACL.IsRestricted(p.ID) {
		return nil, Forbidden("Access denied for user %d: restricted principals may only manage their own apikeys and write values of their linked objects", p.ID)
	}
	if route.scope.Verb != 0 {
		if err := k.ACL.RequireScope(key, route.scope); err != nil {
			if errors.Is(err, acl.ErrReadOnly) {
				return nil, Forbidden("Access denied for user %d: this apikey is read-only", p.ID)
			}
			return nil, Forbidden("Access denied for user %d: this apikey lacks the scope %s", p.ID, route.Scope)
		}
	}
	return &Identity{Key: key, Principal: p}, nil
}

// RecordDenied implements DeniedRecorder: 401 and 403 answers, and 404s for an object or object
// group that exists but is hidden from the caller, go to the audit log (API.md §3.7), at most
// once a second per (principal, route).
func (k KeyAuth) RecordDenied(ctx *fasthttp.RequestCtx, route *Route, status int) {
	if status == fasthttp.StatusNotFound && !k.hiddenButExisting(ctx, route) {
		return
	}
	var tenant, pid uint32
	if id := CallerIdentity(ctx); id != nil {
		tenant, pid = id.Principal.Tenant, id.Principal.ID
	} else if user := ctx.Request.Header.Peek("bbuser"); len(user) > 0 {
		if n, err := strconv.ParseUint(string(user), 10, 32); err == nil {
			if p, err := k.ACL.Principal(uint32(n)); err == nil {
				tenant, pid = p.Tenant, p.ID
			}
		}
	}
	var oid uint32
	if s, ok := ctx.UserValue("id").(string); ok && strings.HasPrefix(route.Path, "/objects/{id}") {
		if n, err := strconv.ParseUint(s, 10, 32); err == nil {
			oid = uint32(n)
		}
	}
	_ = k.ACL.RecordDenied(tenant, pid, route.Path, oid, status)
}

// hiddenButExisting reports whether a 404 hid an object or object group that exists.
func (k KeyAuth) hiddenButExisting(ctx *fasthttp.RequestCtx, route *Route) bool {
	s, ok := ctx.UserValue("id").(string)
	if !ok {
		return false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(route.Path, "/objects/{id}"):
		_, err = k.ACL.Catalog().Object(uint32(n))
	case strings.HasPrefix(route.Path, "/objectGroups/{id}"):
		_, err = k.ACL.Catalog().Group(uint32(n))
	default:
		return false
	}
	return err == nil
}

// credentials extracts (user, secret) from a request: `Authorization: Basic` (falling back to
// the bbuser/bbtoken headers when the decoded value is not exactly `user:secret`), `Bearer` or
// `Token` (the secret alone: bearer=true), the bbuser/bbtoken headers, and `?u=&p=` on routes
// that allow query credentials (Influx 1.x writers).
func credentials(ctx *fasthttp.RequestCtx, route *Route) (user, secret string, bearer bool, err error) {
	h := &ctx.Request.Header
	auth := string(h.Peek("Authorization"))
	switch {
	case hasPrefixFold(auth, "Basic "):
		raw, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(auth[6:]))
		if derr != nil {
			return "", "", false, Errorf(fasthttp.StatusForbidden, ExcBadApikey, "The Basic Authentication provided (Base64) is invalid.")
		}
		if parts := strings.Split(string(raw), ":"); len(parts) == 2 {
			return parts[0], parts[1], false, nil
		}
	case hasPrefixFold(auth, "Bearer "):
		return "", strings.TrimSpace(auth[7:]), true, nil
	case hasPrefixFold(auth, "Token "):
		return "", strings.TrimSpace(auth[6:]), true, nil
	}
	user, secret = string(h.Peek("bbuser")), string(h.Peek("bbtoken"))
	if user == "" && secret == "" && route.QueryCredentials {
		args := ctx.QueryArgs()
		user, secret = string(args.Peek("u")), string(args.Peek("p"))
	}
	return user, secret, false, nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// FromDomain maps an error of acl, catalog or tsdb to the HTTP error of bbdata-v2.md §0.3;
// item names what a 404 is about ("object", "userGroup", …). Unknown errors stay internal
// (500). ErrUnchanged is not an error at the HTTP layer: callers answer 304 themselves
// (see Modified).
func FromDomain(err error, item string) error {
	var ve *acl.ValidationError
	var fe *acl.ForbiddenError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ve):
		if len(ve.Fields) > 0 {
			return Validation(ve.Fields)
		}
		return WrongParams("%s", ve.Msg)
	case errors.As(err, &fe):
		return Forbidden("%s", fe.Reason)
	case errors.Is(err, acl.ErrForbidden):
		return Forbidden("%s", strings.TrimPrefix(err.Error(), "acl: "))
	case errors.Is(err, acl.ErrNotFound):
		return NotFound(item)
	case errors.Is(err, acl.ErrDuplicate):
		return Errorf(fasthttp.StatusBadRequest, ExcDuplicateField, "%s", duplicateDetails(err))
	case errors.Is(err, acl.ErrForeignKey):
		return Errorf(fasthttp.StatusBadRequest, ExcForeignKey, "A field references a non-existing resource.")
	case errors.Is(err, acl.ErrWrongCredentials):
		return Forbidden("Wrong username or password.")
	case errors.Is(err, acl.ErrBusy):
		return &Error{Status: fasthttp.StatusTooManyRequests, Exception: ExcTooManyRequests,
			Details: "too many logins in progress; retry in a second", RetryAfter: 1}
	case errors.Is(err, acl.ErrBadApikey), errors.Is(err, acl.ErrExpired):
		return Errorf(fasthttp.StatusForbidden, ExcBadApikey, "Access denied: bad apikey")
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return err
}

// duplicateDetails extracts "value '<dup>' already exists." from a duplicate error when the
// domain put it there, else a generic message.
func duplicateDetails(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "value '"); i >= 0 {
		return msg[i:]
	}
	return "value already exists."
}

// Removed answers a DELETE whose target may be absent (bbdata-v2.md §0.4): a thing that is not
// there (not found) answers 304 like one already removed; otherwise as Modified.
func Removed(ctx *fasthttp.RequestCtx, err error, item string) {
	if errors.Is(err, acl.ErrNotFound) {
		err = acl.ErrUnchanged
	}
	Modified(ctx, err, item)
}

// Modified answers the modification status of bbdata-v2.md §0.4: 200 with an empty body when
// err is nil, 304 with an empty body when it is ErrUnchanged, else the mapped error.
func Modified(ctx *fasthttp.RequestCtx, err error, item string) {
	switch {
	case err == nil:
		ctx.SetStatusCode(fasthttp.StatusOK)
	case errors.Is(err, acl.ErrUnchanged):
		ctx.SetStatusCode(fasthttp.StatusNotModified)
	default:
		WriteError(ctx, FromDomain(err, item))
	}
}
