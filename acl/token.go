package acl

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// MaxTokensPerObject bounds an object's tokens (API.md §4).
const MaxTokensPerObject = 100

// Token authenticates writes of values to one object (POST /objects/values).
// Secret is set only in the value returned when it is created; Prefix is shown later.
type Token struct {
	ID          uint32    `json:"id"`
	Object      uint32    `json:"object"`
	Secret      string    `json:"-"`
	Prefix      string    `json:"prefix"`
	Description *string   `json:"description"`
	Created     time.Time `json:"created"`
}

type tokenRec struct {
	Token
	Hash [32]byte `json:"hash"`
}

// tokenKey is the plaintext cache key: (object, token). Never persisted.
type tokenKey struct {
	obj uint32
	tok [32]byte
}

// tokenCache maps verified plaintext (object, token) pairs to their token id so a
// known pair costs one map lookup, not a SHA-256 (DESIGN.md §6). Entries are
// evicted when their token is deleted or their object disabled or deleted, inside
// the write lock that applies the change; gen makes a slow-path fill that raced
// with an eviction drop its result.
//
// The cache is split into shards by object id, each with its own lock on its own
// cache line: concurrent requests check distinct objects, and one shared RWMutex
// made every reader bounce its counter between the cores
// (BenchmarkTokenLookupParallel: 40–60 ns/op with one lock on 2 cores).
type tokenCache struct {
	shards [tokenShards]tokenShard
	// epoch grows after every eviction (TokenEpoch).
	epoch atomic.Uint64
}

const tokenShards = 64

type tokenShard struct {
	mu    sync.RWMutex
	m     map[tokenKey]uint32
	byObj map[uint32][]tokenKey
	gen   uint64
	_     [64]byte // keep neighbouring shards' locks off one cache line
}

func (c *tokenCache) init() {
	for i := range c.shards {
		c.shards[i].m = map[tokenKey]uint32{}
		c.shards[i].byObj = map[uint32][]tokenKey{}
	}
}

func (c *tokenCache) shard(obj uint32) *tokenShard { return &c.shards[obj%tokenShards] }

func (c *tokenCache) evict(obj uint32, tokenID uint32) {
	sh := c.shard(obj)
	sh.mu.Lock()
	defer c.epoch.Add(1) // after the entries are gone (deferred calls run last-in first-out)
	defer sh.mu.Unlock()
	sh.gen++
	keep := sh.byObj[obj][:0]
	for _, k := range sh.byObj[obj] {
		if tokenID == 0 || sh.m[k] == tokenID {
			delete(sh.m, k)
		} else {
			keep = append(keep, k)
		}
	}
	if len(keep) == 0 {
		delete(sh.byObj, obj)
	} else {
		sh.byObj[obj] = keep
	}
}

// CheckToken reports whether token is a valid token of object id (which implies
// the object exists and is enabled: disabling deletes its tokens). A cached pair
// costs a map lookup; the first check of a pair hashes it once.
func (a *ACL) CheckToken(objectID uint32, token []byte) bool {
	if len(token) != 32 {
		return false
	}
	var k tokenKey
	k.obj = objectID
	copy(k.tok[:], token)
	c := a.tokenCache.shard(objectID)
	c.mu.RLock()
	_, hit := c.m[k]
	gen := c.gen
	c.mu.RUnlock()
	if hit {
		return true
	}
	h := sha256.Sum256(token)
	var found uint32
	a.mu.RLock()
	for _, tid := range a.mu.tokensOf[objectID] {
		if r := a.mu.tokens[tid]; subtle.ConstantTimeCompare(r.Hash[:], h[:]) == 1 {
			found = tid
			break
		}
	}
	a.mu.RUnlock()
	if found == 0 {
		return false
	}
	c.mu.Lock()
	if c.gen == gen {
		c.m[k] = found
		c.byObj[objectID] = append(c.byObj[objectID], k)
	}
	c.mu.Unlock()
	return true
}

// TokenEpoch grows whenever a token stops being valid (deleted, or its object
// disabled or deleted), before the change returns. A caller that read epoch e
// and then saw CheckToken(o, t) succeed may keep trusting (o, t) for as long as
// TokenEpoch still returns e: ingest keeps such pairs in a table indexed by
// object id, checked by one compare instead of a locked map lookup per measure.
func (a *ACL) TokenEpoch() uint64 { return a.tokenCache.epoch.Load() }

// CheckTokenString is CheckToken for a string token.
func (a *ACL) CheckTokenString(objectID uint32, token string) bool {
	var b [32]byte
	if len(token) != 32 {
		return false
	}
	copy(b[:], token)
	return a.CheckToken(objectID, b[:])
}

// NewToken is the input of CreateTokens.
type NewToken struct {
	Object      uint32
	Description *string
}

// CreateTokens creates tokens (PUT /objects/{id}/tokens, PUT /objects/bulk/tokens):
// actor must manage every object (else ErrNotFound), every object must be enabled
// (else *ValidationError) and stay ≤ MaxTokensPerObject; all or nothing.
func (a *ACL) CreateTokens(actor uint32, news []NewToken) ([]Token, error) {
	if len(news) == 0 {
		return nil, catalogInvalid("array body must contain at least one item.")
	}
	for i, n := range news {
		if n.Description != nil && len([]rune(*n.Description)) > 255 {
			return nil, invalidField(fmt.Sprintf("[%d].description", i), "size must be between 0 and 255")
		}
	}
	var out []Token
	err := a.write(func(tx *txn) error {
		count := map[uint32]int{}
		for _, n := range news {
			o, err := a.cat.Object(n.Object)
			if err != nil || !a.canManageObjectLocked(actor, &o) {
				return fmt.Errorf("acl: object %d: %w", n.Object, ErrNotFound)
			}
			if o.Disabled {
				return catalogInvalid("object %d is disabled: no new tokens", n.Object)
			}
			count[n.Object]++
			if len(a.mu.tokensOf[n.Object])+count[n.Object] > MaxTokensPerObject {
				return catalogInvalid("object %d: at most %d tokens", n.Object, MaxTokensPerObject)
			}
		}
		for _, n := range news {
			o, _ := a.cat.Object(n.Object)
			secret := newSecret()
			r := &tokenRec{Token: Token{ID: tx.nextID("token"), Object: n.Object, Prefix: prefixOf(secret),
				Description: n.Description, Created: tx.now.UTC()}, Hash: hashSecret(secret)}
			tx.set(key(kindToken, r.ID), r)
			tx.do(func() { a.putTokenLocked(r) })
			tx.auditf(o.Tenant, actor, "token.create", AuditTarget{Object: n.Object, Token: r.ID})
			t := r.Token
			t.Secret = secret
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// Tokens returns object oid's tokens (without secrets) if actor manages it, else
// ErrNotFound.
func (a *ACL) Tokens(actor, oid uint32) ([]Token, error) {
	o, err := a.cat.Object(oid)
	a.mu.RLock()
	defer a.mu.RUnlock()
	if err != nil || !a.canManageObjectLocked(actor, &o) {
		return nil, fmt.Errorf("acl: object %d: %w", oid, ErrNotFound)
	}
	out := make([]Token, 0, len(a.mu.tokensOf[oid]))
	for _, id := range a.mu.tokensOf[oid] {
		out = append(out, a.mu.tokens[id].Token)
	}
	slices.SortFunc(out, func(x, y Token) int { return int(x.ID) - int(y.ID) })
	return out, nil
}

// UpdateToken sets a token's description; unknown token of that object → ErrNotFound.
func (a *ACL) UpdateToken(actor, oid, tid uint32, description *string) (Token, error) {
	var out Token
	err := a.write(func(tx *txn) error {
		o, err := a.cat.Object(oid)
		if err != nil || !a.canManageObjectLocked(actor, &o) {
			return fmt.Errorf("acl: object %d: %w", oid, ErrNotFound)
		}
		r, ok := a.mu.tokens[tid]
		if !ok || r.Object != oid {
			return fmt.Errorf("acl: token %d: %w", tid, ErrNotFound)
		}
		n := *r
		n.Description = description
		tx.set(key(kindToken, tid), &n)
		tx.do(func() { a.putTokenLocked(&n) })
		out = n.Token
		return nil
	})
	return out, err
}

// DeleteToken deletes a token; it stops working before this returns. Not a token
// of that object → ErrUnchanged.
func (a *ACL) DeleteToken(actor, oid, tid uint32) error {
	return a.write(func(tx *txn) error {
		o, err := a.cat.Object(oid)
		if err != nil || !a.canManageObjectLocked(actor, &o) {
			return fmt.Errorf("acl: object %d: %w", oid, ErrNotFound)
		}
		r, ok := a.mu.tokens[tid]
		if !ok || r.Object != oid {
			return ErrUnchanged
		}
		tx.del(key(kindToken, tid))
		tx.do(func() {
			a.deleteTokenLocked(tid)
			a.tokenCache.evict(oid, tid)
		})
		tx.auditf(o.Tenant, actor, "token.delete", AuditTarget{Object: oid, Token: tid})
		return nil
	})
}

// stageDeleteTokensOf deletes every token of oid in tx (disable, delete object).
func (a *ACL) stageDeleteTokensOf(tx *txn, oid uint32) {
	for _, tid := range a.mu.tokensOf[oid] {
		tx.del(key(kindToken, tid))
	}
	tx.do(func() {
		for _, tid := range slices.Clone(a.mu.tokensOf[oid]) {
			a.deleteTokenLocked(tid)
		}
		a.tokenCache.evict(oid, 0)
	})
}
