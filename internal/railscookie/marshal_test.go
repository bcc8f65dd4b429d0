package railscookie

import "github.com/heraldrt/herald/internal/rubymarshal"

// testMarshal is the Options.Marshal hook herald wires in production: the
// real Ruby Marshal decoder and its JSON mapping.
func testMarshal(b []byte) ([]byte, error) {
	v, err := rubymarshal.Decode(b, nil)
	if err != nil {
		return nil, err
	}
	return rubymarshal.ToJSON(v)
}
