package acl

import "sync"

type tokenRec struct {
	ID     uint32 `json:"id"`
	Object uint32 `json:"object"`
}

type tokenCache struct{ mu sync.RWMutex }

func (c *tokenCache) init() {}

type viewCache struct{ mu sync.Mutex }

func (c *viewCache) init() {}
