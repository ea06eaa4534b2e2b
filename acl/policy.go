package acl

// Status of a named resource policy (the Elhub convention).
type Status string

const (
	Proposed Status = "PROPOSED"
	Todo     Status = "TODO"
	Partial  Status = "PARTIAL"
	Done     Status = "DONE"
)

// Policy is a named resource-level policy: `<Resource>-<Party><Number>`. Tests that
// prove one carry its key in their name (with "_" for "-"), and
// docs/authorization.md lists them (generated, see GenerateAuthorizationDoc).
type Policy struct {
	Key    string
	Text   string
	Status Status
	Source string // where the rule comes from
	Note   string // what PARTIAL leaves to another layer
}

// Party abbreviations of policy keys.
//
//	SU superuser (admin member of user group 1)   TA tenant admin
//	UGA admin of the owner user group              UGM member of the owner user group
//	SH member of a user group an object group is shared with
//	RP restricted principal                        PUB anonymous (public)
//	ANY any authenticated principal                CLI client
var Policies = []Policy{
	{"OBJ-SU001", "Superusers read, write values of and manage every object of every tenant.", Done, "bbdata-v2.md §0.5; API.md §4", ""},
	{"OBJ-TA001", "Tenant admins read, write values of and manage every object of their tenant, nothing of another.", Done, "API.md §3.3", ""},
	{"OBJ-UGA001", "Admins of an object's owner group edit it (manage: metadata, tokens, sharing, enable state).", Done, "bbdata-v2.md §0.5", ""},
	{"OBJ-UGA002", "Admins of an object's owner group write its values while it is enabled.", Done, "bbdata-v2.md §0.5; API.md §4", ""},
	{"OBJ-UGA003", "Only admins of a user group create objects and object groups owned by it (others: 404); the new thing takes the group's tenant.", Done, "bbdata-v2.md §2.6, §2.9; API.md §3.3", ""},
	{"OBJ-UGM001", "Members (any role) of an object's owner group read it (metadata and values).", Done, "bbdata-v2.md §0.5", ""},
	{"OBJ-SH001", "Members of a user group an object group is shared with read the object group's objects.", Done, "bbdata-v2.md §0.5; bbdata-concepts", ""},
	{"OBJ-SH002", "A time-bounded share counts once from ≤ now; it reaches an object in the group now and at A_s = min(to, now) that existed at A_s; values are clipped to its windows and metadata served as of the latest A_s.", Done, "API.md §3.5, §4; Elhub as-of", "value clipping and as-of metadata are served by query/api from View.Windows and View.AsOf"},
	{"OBJ-SH003", "An untimed share or ownership lifts every clip of time-bounded shares.", Done, "API.md §3.5", ""},
	{"OBJ-RP001", "Restricted principals read exactly their linked objects, without inheritance through groups.", Done, "API.md §3.3; OpenRemote", ""},
	{"OBJ-RP002", "Restricted principals write values of their linked, enabled objects with a writable key.", Done, "API.md §3.3", ""},
	{"OBJ-RP003", "Restricted principals cannot create, delete, rename, share, enable/disable, change memberships or tokens; only their own apikeys.", Done, "API.md §3.3; OpenRemote", ""},
	{"OBJ-PUB001", "Anonymous readers see only public objects and only their public fields; public read adds nothing to authenticated routes.", Partial, "API.md §3.3; OpenRemote", "field filtering is done by the JSON encoders from FieldAccess"},
	{"OBJ-ALL001", "Deny by default: what no policy grants is invisible (404) for reads and hidden for writes.", Done, "DESIGN.md §6; Elhub", ""},
	{"OBJ-ALL002", "Disabling an object deletes its tokens and clears its write bits before the call returns.", Done, "bbdata-v2.md §2.6, §3.4; API.md §2", ""},
	{"OBJ-ALL003", "Nothing crosses tenants: another tenant's ids answer as nonexistent ones.", Done, "API.md §3.3, §4", ""},
	{"OG-UGA001", "Admins of an object group's owner group manage it, its members and its shares.", Done, "bbdata-v2.md §0.5, §2.9", ""},
	{"OG-UGA002", "An object joins an object group when the caller manages both and both are in one tenant (owners may differ).", Done, "API.md §4", ""},
	{"OG-UGM001", "Members of the owner group and of user groups it is shared with read the object group; deleting it readable-but-not-writable → 403, invisible → 304.", Done, "bbdata-v2.md §0.5, §2.9", ""},
	{"OG-SH001", "One share per (object group, user group): the same share again is unchanged, a new window replaces the old, from ≥ to is invalid.", Done, "API.md §4", ""},
	{"UG-ANY001", "Everyone lists the user groups of their own tenant (superusers: all).", Done, "bbdata-v2.md §2.5; API.md §3.3", ""},
	{"UG-UGM001", "Members (any role) see a group's members; others get 404.", Done, "bbdata-v2.md §2.5", ""},
	{"UG-UGA001", "Group admins add, promote and remove members: non-member caller → 404, member non-admin → 403, same state → unchanged.", Done, "bbdata-v2.md §2.5", ""},
	{"UG-SU001", "Only superusers change group 1's membership; group 1 is never deleted; a group owning objects cannot be deleted.", Done, "API.md §4; bbdata-v2.md §2.5", ""},
	{"USR-SU001", "Every admin member of user group 1 is a superuser.", Done, "bbdata-v2.md §0.5; API.md §4", ""},
	{"USR-SU002", "admin (id 1) is never deleted, removed from group 1 or demoted.", Done, "API.md §1, §4; OpenRemote", "renaming: there is no rename of users in the API"},
	{"USR-SU003", "Only superusers delete users; clients' ids are not users.", Done, "bbdata-v2.md §2.4; API.md §4", ""},
	{"TEN-SU001", "Only superusers create, update and delete tenants; master cannot be deleted; a non-empty tenant cannot be deleted.", Done, "API.md §3.3, §4", ""},
	{"TEN-TA001", "Tenant admins may do in their tenant what a superuser may, except group 1, units, deleting superusers or tenant admins, removing tenant admins, tenants and /admin routes.", Done, "API.md §3.3, §4; re.alto", ""},
	{"TEN-TA002", "Tenant admins are named by superusers or the tenant's admins, among the tenant's principals; only superusers remove them.", Done, "API.md §3.3, §4; re.alto", ""},
	{"LNK-TA001", "Restricted links are made only by tenant admins and superusers, and never on a superuser or a tenant admin.", Done, "API.md §4", ""},
	{"KEY-ANY001", "Read-only keys never write or manage; expired or unknown keys are rejected; at most 1000 unexpired keys per principal.", Done, "bbdata-v2.md §1; API.md §4", ""},
	{"KEY-ANY002", "A key's scopes narrow its principal's rights: verb read < use < manage, modules data/meta/auth, resource parts narrow to objects or object groups.", Done, "API.md §3.4; Elhub scopes", ""},
	{"KEY-ANY003", "A key created by a key gets scopes ⊆ the creator's effective scopes; without scopes it inherits them, narrowed to read when read-only.", Done, "API.md §4", ""},
	{"KEY-ANY004", "/login keys are writable, expire after 13 h and carry null scopes; at 1000 keys the oldest login key is dropped.", Done, "bbdata-v2.md §1.3; API.md §4", ""},
	{"KEY-CLI001", "A client's scopes bound every key it logs in with (intersection).", Done, "API.md §4; Elhub", ""},
	{"TOK-UGA001", "Only managers of an object see, create and delete its tokens; at most 100 per object; none on a disabled object; a deleted token stops at once; secrets are stored hashed and shown once.", Done, "bbdata-v2.md §2.7, §3.4; API.md §2, §4", ""},
	{"AUD-TA001", "Every authorization change is audited with actor, tenant and target.", Partial, "API.md §3.7", "denied requests are recorded by the api layer through RecordDenied; who may read /audit is checked there"},
	{"ACL-ALL001", "After a change is acknowledged no later request sees the old rights: views recompile on the version counter and at the next window boundary.", Done, "DESIGN.md §6; API.md §4", ""},
}

// PolicyByKey returns the policy with that key.
func PolicyByKey(key string) (Policy, bool) {
	for _, p := range Policies {
		if p.Key == key {
			return p, true
		}
	}
	return Policy{}, false
}
