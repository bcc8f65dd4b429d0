package socketio

import "testing"

func TestRoomSetGrowsIntoAMapAndShrinks(t *testing.T) {
	var r roomSet
	socks := make([]*Socket, 3*roomSliceMax)
	for i := range socks {
		socks[i] = &Socket{id: string(rune('a' + i))}
		if !r.add(socks[i]) {
			t.Fatalf("add %d: not new", i)
		}
		if r.add(socks[i]) {
			t.Fatalf("add %d twice: reported new", i)
		}
	}
	if r.many == nil {
		t.Fatal("a large room still uses the slice")
	}
	seen := 0
	r.each(func(*Socket) { seen++ })
	if seen != len(socks) {
		t.Fatalf("each saw %d members, want %d", seen, len(socks))
	}
	for i, s := range socks {
		empty := r.remove(s)
		if empty != (i == len(socks)-1) {
			t.Fatalf("remove %d: empty=%v", i, empty)
		}
		if r.has(s) {
			t.Fatalf("removed member %d still present", i)
		}
	}
}

func TestRoomSetSmall(t *testing.T) {
	var r roomSet
	a, b := &Socket{id: "a"}, &Socket{id: "b"}
	r.add(a)
	r.add(b)
	if r.remove(a) || !r.has(b) || r.has(a) {
		t.Fatal("removing one of two members")
	}
	if !r.remove(b) {
		t.Fatal("room not empty after removing its last member")
	}
	var nilSet *roomSet
	if nilSet.has(a) {
		t.Fatal("nil room has a member")
	}
	nilSet.each(func(*Socket) { t.Fatal("nil room iterated") })
}
