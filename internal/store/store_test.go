package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/netdevd/netdevd/internal/config"
)

func TestConcurrentUpdatesAllLand(t *testing.T) {
	s := New(config.Default())
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				name := fmt.Sprintf("h%d-%d", i, j)
				// Read-modify-CAS with retry, as the local API client does.
				for {
					cfg, v := s.Get()
					cfg.IPHosts = append(cfg.IPHosts, config.IPHost{Name: name})
					if _, err := s.CompareAndSwap(v, cfg); err == nil {
						break
					} else if !errors.Is(err, ErrConflict) {
						t.Error(err)
						return
					}
				}
			}
		}(i)
	}
	wg.Wait()
	cfg, _ := s.Get()
	if len(cfg.IPHosts) != 16*20 {
		t.Fatalf("%d hosts, want %d: a concurrent change was lost", len(cfg.IPHosts), 16*20)
	}
}

func TestInvalidChangeStoresNothing(t *testing.T) {
	s := New(config.Default())
	before, v := s.Get()
	err := s.Update(func(c *config.Config) error { c.Cloud.Keepalive = 5; return nil })
	if err == nil {
		t.Fatal("keepalive 5 accepted")
	}
	after, v2 := s.Get()
	if v != v2 || after.Cloud.Keepalive != before.Cloud.Keepalive {
		t.Fatal("invalid change was stored")
	}
	if _, err := s.CompareAndSwap(v, config.Config{}); err == nil {
		t.Fatal("empty config accepted")
	}
}

func TestWatchCoalesces(t *testing.T) {
	s := New(config.Default())
	c, stop := s.Watch()
	defer stop()
	for i := 0; i < 3; i++ {
		s.Update(func(c *config.Config) error { c.Sysname = fmt.Sprint("r", i); return nil })
	}
	<-c
	select {
	case <-c:
		t.Fatal("three changes gave more than one pending notification")
	default:
	}
}

func TestGetReturnsCopy(t *testing.T) {
	s := New(config.Default())
	s.Update(func(c *config.Config) error { c.IPHosts = []config.IPHost{{Name: "a"}}; return nil })
	cfg, _ := s.Get()
	cfg.IPHosts[0].Name = "changed"
	again, _ := s.Get()
	if again.IPHosts[0].Name != "a" {
		t.Fatal("Get shares memory with the store")
	}
}
