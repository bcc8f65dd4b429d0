package socketio

// roomSet is the membership of one room. Most rooms hold one user's one or
// two sockets, so members live in a small slice; a room that grows past
// roomSliceMax switches to a map, so removal from a large room stays cheap.
// A slice of one costs a fraction of a map of one, on every connection.
type roomSet struct {
	few  []*Socket
	many map[*Socket]struct{}
}

const roomSliceMax = 16

func (r *roomSet) has(s *Socket) bool {
	if r == nil {
		return false
	}
	if r.many != nil {
		_, ok := r.many[s]
		return ok
	}
	for _, x := range r.few {
		if x == s {
			return true
		}
	}
	return false
}

// add inserts s and reports whether it was new.
func (r *roomSet) add(s *Socket) bool {
	if r.has(s) {
		return false
	}
	if r.many != nil {
		r.many[s] = struct{}{}
		return true
	}
	if len(r.few) < roomSliceMax {
		r.few = append(r.few, s)
		return true
	}
	r.many = make(map[*Socket]struct{}, 2*roomSliceMax)
	for _, x := range r.few {
		r.many[x] = struct{}{}
	}
	r.many[s] = struct{}{}
	r.few = nil
	return true
}

// remove deletes s and reports whether the room is now empty.
func (r *roomSet) remove(s *Socket) bool {
	if r.many != nil {
		delete(r.many, s)
		return len(r.many) == 0
	}
	for i, x := range r.few {
		if x == s {
			last := len(r.few) - 1
			r.few[i] = r.few[last]
			r.few[last] = nil
			r.few = r.few[:last]
			break
		}
	}
	return len(r.few) == 0
}

func (r *roomSet) len() int {
	switch {
	case r == nil:
		return 0
	case r.many != nil:
		return len(r.many)
	}
	return len(r.few)
}

// each calls fn for every member.
func (r *roomSet) each(fn func(*Socket)) {
	if r == nil {
		return
	}
	if r.many != nil {
		for s := range r.many {
			fn(s)
		}
		return
	}
	for _, s := range r.few {
		fn(s)
	}
}
