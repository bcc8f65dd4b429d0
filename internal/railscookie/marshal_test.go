package railscookie

import "github.com/heraldrt/herald/internal/rubymarshal"

// testMarshal is the Options.Marshal hook herald wires in production: the
// real Ruby Marshal decoder and its JSON mapping.
func testMarshal(b []byte) ([]byte, error) { return rubymarshal.DecodeJSON(b) }
