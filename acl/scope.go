package acl

import (
	"fmt"
	"strconv"
	"strings"
)

// Verb is a scope's access level: read < use < manage (a higher verb covers the lower).
type Verb uint8

const (
	VerbRead Verb = iota + 1
	VerbUse
	VerbManage
)

func (v Verb) String() string {
	switch v {
	case VerbRead:
		return "read"
	case VerbUse:
		return "use"
	case VerbManage:
		return "manage"
	}
	return "?"
}

// Modules of scopes (API.md §3.4). "*" covers every module.
const (
	ModuleData = "data"
	ModuleMeta = "meta"
	ModuleAuth = "auth"
	ModuleAll  = "*"
)

// Scope is `<verb>:<module>[:<resource>]…` (API.md §3.4). Resource is the rest
// after the module, ":"-joined; "" means the whole module. Resources naming things
// (`object/42`, `objectGroup/7`) narrow the key's view; others (`write` of the data
// module) name a part of the module's routes.
type Scope struct {
	Verb     Verb
	Module   string
	Resource string
}

func (s Scope) String() string {
	out := s.Verb.String() + ":" + s.Module
	if s.Resource != "" {
		out += ":" + s.Resource
	}
	return out
}

func (s Scope) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Scope) UnmarshalText(b []byte) error {
	v, err := ParseScope(string(b))
	*s = v
	return err
}

// ParseScope parses one scope; a malformed one is a *ValidationError on "scopes".
func ParseScope(str string) (Scope, error) {
	parts := strings.Split(str, ":")
	bad := func(why string) (Scope, error) {
		return Scope{}, invalidField("scopes", fmt.Sprintf("malformed scope %q: %s", str, why))
	}
	if len(parts) < 2 {
		return bad("want <verb>:<module>[:<resource>]")
	}
	var s Scope
	switch parts[0] {
	case "read":
		s.Verb = VerbRead
	case "use":
		s.Verb = VerbUse
	case "manage":
		s.Verb = VerbManage
	default:
		return bad("verb must be read, use or manage")
	}
	switch parts[1] {
	case ModuleData, ModuleMeta, ModuleAuth, ModuleAll:
		s.Module = parts[1]
	default:
		return bad("module must be data, meta, auth or *")
	}
	if s.Module == ModuleAll && len(parts) > 2 {
		return bad("module * takes no resource")
	}
	for _, r := range parts[2:] {
		if r == "" {
			return bad("empty resource part")
		}
		if kind, id, ok := strings.Cut(r, "/"); ok {
			if kind != "object" && kind != "objectGroup" {
				return bad("resource must be object/<id> or objectGroup/<id>")
			}
			if n, err := strconv.ParseUint(id, 10, 32); err != nil || n == 0 {
				return bad("resource id must be a positive integer")
			}
			continue
		}
		for _, c := range r {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				return bad("resource parts are identifiers")
			}
		}
	}
	if len(parts) > 2 {
		s.Resource = strings.Join(parts[2:], ":")
	}
	return s, nil
}

// ParseScopes parses a comma list (`read:data,manage:meta`). An empty list is
// invalid (API.md §4: `scopes=` empty → 400).
func ParseScopes(list string) ([]Scope, error) {
	if strings.TrimSpace(list) == "" {
		return nil, invalidField("scopes", "must not be empty")
	}
	var out []Scope
	for _, p := range strings.Split(list, ",") {
		s, err := ParseScope(strings.TrimSpace(p))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// objectResource returns the thing a resource part names ("object", 42) — the last
// part that names one — or ok=false.
func (s Scope) objectResource() (kind string, id uint32, ok bool) {
	if s.Resource == "" {
		return "", 0, false
	}
	parts := strings.Split(s.Resource, ":")
	for i := len(parts) - 1; i >= 0; i-- {
		if k, v, found := strings.Cut(parts[i], "/"); found {
			n, _ := strconv.ParseUint(v, 10, 32)
			return k, uint32(n), true
		}
	}
	return "", 0, false
}

// covers reports whether s grants (verb, module, resource) at route level: its verb
// is at least verb, its module matches, and its resource is absent, equal, a prefix,
// or names a thing (narrowing the view instead of the route).
func (s Scope) covers(verb Verb, module, resource string) bool {
	if s.Verb < verb || (s.Module != ModuleAll && s.Module != module) {
		return false
	}
	if s.Resource == "" || s.Resource == resource || strings.HasPrefix(resource, s.Resource+":") {
		return true
	}
	_, _, named := s.objectResource()
	return named
}

// subsumes reports whether s grants everything t grants (t ⊆ s).
func (s Scope) subsumes(t Scope) bool {
	if s.Verb < t.Verb {
		return false
	}
	if s.Module != ModuleAll && s.Module != t.Module {
		return false
	}
	return s.Resource == "" || s.Resource == t.Resource || strings.HasPrefix(t.Resource, s.Resource+":")
}

// impliedScopes are the scopes of a key without explicit ones (API.md §3.4).
func impliedScopes(readOnly bool) []Scope {
	if readOnly {
		return []Scope{{Verb: VerbRead, Module: ModuleAll}}
	}
	return []Scope{{Verb: VerbManage, Module: ModuleAll}}
}

func scopesAllow(scopes []Scope, verb Verb, module, resource string) bool {
	for _, s := range scopes {
		if s.covers(verb, module, resource) {
			return true
		}
	}
	return false
}

func scopesSubsume(have []Scope, want Scope) bool {
	for _, s := range have {
		if s.subsumes(want) {
			return true
		}
	}
	return false
}

// FormatScopes joins scopes with commas.
func FormatScopes(scopes []Scope) string {
	parts := make([]string, len(scopes))
	for i, s := range scopes {
		parts[i] = s.String()
	}
	return strings.Join(parts, ",")
}
