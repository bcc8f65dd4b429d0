package demo

import (
	"fmt"
	"testing"
)

func TestRegistryForgetsTheOldestWhenFull(t *testing.T) {
	g := newRegistry(3)
	for i := range 5 {
		g.add(fmt.Sprint(i), &session{UserID: fmt.Sprint(i)})
	}
	for i, want := range []bool{false, false, true, true, true} {
		if got := g.get(fmt.Sprint(i)) != nil; got != want {
			t.Errorf("token %d remembered: %v, want %v", i, got, want)
		}
	}
	// Removed tokens do not count, and the order list stays bounded.
	for i := 5; i < 100; i++ {
		g.add(fmt.Sprint(i), &session{})
		g.remove(fmt.Sprint(i))
	}
	if len(g.m) != 2 || len(g.order) > 2*3+1 { // "2" made room for "5"
		t.Errorf("after add/remove churn: %d sessions, order list of %d", len(g.m), len(g.order))
	}
}
