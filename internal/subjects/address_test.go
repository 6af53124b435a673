package subjects

import (
	"bytes"
	"reflect"
	"testing"
)

func TestAddressColumns(t *testing.T) {
	for _, tc := range []struct {
		name, input, format string
		want                Address
	}{
		{
			name:   "generic",
			input:  "external_id,email,country,subdivision,address_line1,address_line2,city,postal_code\nC-1,,US,CA,1 Market St,Suite 200,San Francisco,94105\n",
			format: FormatGeneric,
			want:   Address{Lines: []string{"1 Market St", "Suite 200"}, City: "San Francisco", Region: "CA", PostalCode: "94105", Country: "US"},
		},
		{
			name: "salesforce multi-line street",
			input: "Contact ID,Email,Mailing Street,Mailing City,Mailing State/Province,Mailing Zip/Postal Code,Mailing Country\n" +
				"003A,,\"1 Market St\nSuite 200\",San Francisco,CA,94105,US\n",
			format: FormatSalesforce,
			want:   Address{Lines: []string{"1 Market St", "Suite 200"}, City: "San Francisco", Region: "CA", PostalCode: "94105", Country: "US"},
		},
		{
			name:   "hubspot",
			input:  "Record ID,Email,Street Address,City,State/Region,Postal Code,Country/Region\n51,,200 Pine Ave,Austin,TX,78701,United States\n",
			format: FormatHubSpot,
			want:   Address{Lines: []string{"200 Pine Ave"}, City: "Austin", Region: "TX", PostalCode: "78701", Country: "US"},
		},
		{
			name:   "region as written",
			input:  "external_id,country,address,city,address_region,zip\nC-2,CN,朝阳区建国路88号,北京市,北京,100022\n",
			format: FormatGeneric,
			want:   Address{Lines: []string{"朝阳区建国路88号"}, City: "北京市", Region: "北京", PostalCode: "100022", Country: "CN"},
		},
		{
			name:   "no address",
			input:  "external_id,email,country\nC-3,c3@example.com,DE\n",
			format: FormatGeneric,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, got := mustRun(t, tc.input, Options{})
			if len(got) != 1 || len(rep.Rejected) != 0 {
				t.Fatalf("got %d subjects, rejected %+v", len(got), rep.Rejected)
			}
			if rep.Format != tc.format {
				t.Errorf("format = %q, want %q", rep.Format, tc.format)
			}
			if !reflect.DeepEqual(got[0].Address, tc.want) {
				t.Errorf("address = %+v, want %+v", got[0].Address, tc.want)
			}
		})
	}
}

func TestAddressRejections(t *testing.T) {
	long := string(bytes.Repeat([]byte("x"), maxAddressField+1))
	rep, got := mustRun(t, "external_id,address_line1,city,postal_code\nC-1,"+long+",Paris,75001\nC-2,1 rue X,Pa\u0007ris,75001\nC-3,1 rue X,Paris,75001\n", Options{})
	if len(got) != 1 || len(rep.Rejected) != 2 {
		t.Fatalf("accepted %d, rejected %+v", len(got), rep.Rejected)
	}
	if rep.Rejected[0].Line != 2 || rep.Rejected[1].Line != 3 {
		t.Errorf("rejected lines = %+v", rep.Rejected)
	}
}

func TestSealOpenAddress(t *testing.T) {
	kr := testKeyring(t, "k1")
	a := Address{Lines: []string{"1 Market St"}, City: "San Francisco", Region: "CA", PostalCode: "94105", Country: "US"}
	rec, err := Seal("BR-AAAAAA", Subject{ExternalID: "C-1", Tier: TierLow, Address: a}, kr, hmacKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.AddressSealed) == 0 || bytes.Contains(rec.AddressSealed, []byte("Market")) {
		t.Fatalf("address not sealed: %q", rec.AddressSealed)
	}
	got, err := OpenAddress(rec, kr)
	if err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("OpenAddress = %+v, %v", got, err)
	}
	// Bound to its incident like the email and name.
	rec.IncidentID = "BR-BBBBBB"
	if _, err := OpenAddress(rec, kr); err == nil {
		t.Error("an address sealed for another incident opened")
	}
	none, err := Seal("BR-AAAAAA", Subject{ExternalID: "C-2", Tier: TierLow}, kr, hmacKey)
	if err != nil || len(none.AddressSealed) != 0 {
		t.Fatalf("a subject without address got %d sealed bytes (%v)", len(none.AddressSealed), err)
	}
	if got, err := OpenAddress(none, kr); err != nil || !got.Empty() {
		t.Errorf("OpenAddress of none = %+v, %v", got, err)
	}
}
