package store

import (
	"context"
	"database/sql"
	"encoding/json"
)

// upsertSubjectsPostgresSQL writes a whole batch in one statement. The
// batch arrives as one array per column ($2..$12 and $14, deduplicated by the
// caller, in order of first appearance); found pairs each record with its
// stored row through the two partial unique indexes, updated rewrites those
// rows and inserted adds the rest in batch order, so new ids follow the
// batch. Both data-modifying parts see the same snapshot, taken after the
// incident row lock, and touch disjoint rows. The statement returns the
// batch positions that were updates.
//
// The repeated "<> ”" conditions are what let the planner use the partial
// indexes, as in upsertSubjectsEach.
const upsertSubjectsPostgresSQL = `WITH b AS (
	SELECT * FROM unnest($2::text[], $3::text[], $4::bytea[], $5::bytea[], $6::text[], $7::text[],
		$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $14::bytea[]) WITH ORDINALITY
		AS b (external_id, email_hmac, email_sealed, name_sealed, key_id, locale,
			country, subdivision, tier, account_manager, data_elements, address_sealed, ord)
), found AS (
	SELECT b.ord, s.id FROM b CROSS JOIN LATERAL (SELECT id FROM subjects
		WHERE incident_id = $1 AND external_id = b.external_id AND external_id <> '' LIMIT 1) s
	WHERE b.external_id <> ''
	UNION ALL
	SELECT b.ord, s.id FROM b CROSS JOIN LATERAL (SELECT id FROM subjects
		WHERE incident_id = $1 AND external_id = '' AND email_hmac = b.email_hmac AND email_hmac <> '' LIMIT 1) s
	WHERE b.external_id = ''
), updated AS (
	UPDATE subjects s SET email_hmac = b.email_hmac, email_sealed = b.email_sealed,
		name_sealed = b.name_sealed, key_id = b.key_id, locale = b.locale, country = b.country,
		subdivision = b.subdivision, tier = b.tier, account_manager = b.account_manager,
		data_elements = b.data_elements, updated_at = $13, address_sealed = b.address_sealed
	FROM found f JOIN b ON b.ord = f.ord
	WHERE s.id = f.id
	RETURNING f.ord
), inserted AS (
	INSERT INTO subjects (incident_id, external_id, email_hmac, email_sealed, name_sealed, key_id,
		locale, country, subdivision, tier, account_manager, data_elements, created_at, updated_at, address_sealed)
	SELECT $1, b.external_id, b.email_hmac, b.email_sealed, b.name_sealed, b.key_id, b.locale,
		b.country, b.subdivision, b.tier, b.account_manager, b.data_elements, $13, $13, b.address_sealed
	FROM b WHERE NOT EXISTS (SELECT 1 FROM found f WHERE f.ord = b.ord)
	ORDER BY b.ord
)
SELECT ord FROM updated`

// upsertSubjectsPostgres is UpsertSubjects in one round trip for the batch
// (plus the incident lock and the commit) instead of two per record: with
// the database a network hop away, round trips are what an import costs.
// The pgx driver sends Go slices as PostgreSQL arrays.
func (s *SQL) upsertSubjectsPostgres(ctx context.Context, incidentID string, batch []SubjectRecord) (inserted, updated int, err error) {
	recs, repeats := dedupeSubjects(batch)
	n := len(recs)
	externalIDs, emailHMACs, emails, names := make([]string, n), make([]string, n), make([][]byte, n), make([][]byte, n)
	keyIDs, locales, countries, subdivisions := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	tiers, managers, elements := make([]string, n), make([]string, n), make([]string, n)
	addresses := make([][]byte, n)
	for i, r := range recs {
		elems := r.DataElements
		if elems == nil {
			elems = []string{}
		}
		elemsJSON, err := json.Marshal(elems)
		if err != nil {
			return 0, 0, err
		}
		externalIDs[i], emailHMACs[i], keyIDs[i], locales[i], countries[i] = r.ExternalID, r.EmailHMAC, r.KeyID, r.Locale, r.Country
		subdivisions[i], tiers[i], managers[i], elements[i] = r.Subdivision, r.Tier, r.AccountManager, string(elemsJSON)
		emails[i], names[i], addresses[i] = nonNil(r.EmailSealed), nonNil(r.NameSealed), nonNil(r.AddressSealed)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		inserted, updated = 0, 0
		// As in PutObligations: the row lock on the incident orders
		// concurrent upserts, so the look-up-then-write in the statement
		// cannot race into a unique violation.
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM incidents WHERE id = $1 FOR NO KEY UPDATE`, incidentID).Scan(&one); err != nil {
			return notFound(err)
		}
		rows, err := tx.QueryContext(ctx, upsertSubjectsPostgresSQL, incidentID, externalIDs, emailHMACs,
			emails, names, keyIDs, locales, countries, subdivisions, tiers, managers, elements, s.timeArg(now()), addresses)
		if err != nil {
			return err
		}
		defer rows.Close()
		wasUpdate := make([]bool, len(recs))
		for rows.Next() {
			var ord int64 // WITH ORDINALITY counts from 1
			if err := rows.Scan(&ord); err != nil {
				return err
			}
			wasUpdate[ord-1] = true
		}
		if err := rows.Err(); err != nil {
			return err
		}
		// Counted as if the batch were written record by record: a key's
		// first record inserts unless it was stored, later ones update.
		for i, up := range wasUpdate {
			if up {
				updated += repeats[i]
			} else {
				inserted, updated = inserted+1, updated+repeats[i]-1
			}
		}
		return nil
	})
	return inserted, updated, err
}

// dedupeSubjects merges records of one subject in a batch: the result has
// one record per key (the non-empty external id, else the email hash), the
// last one given, at the place of the key's first appearance; repeats[i] is
// how many records of the batch recs[i] stands for.
func dedupeSubjects(batch []SubjectRecord) (recs []SubjectRecord, repeats []int) {
	type key struct{ externalID, emailHMAC string }
	at := make(map[key]int, len(batch))
	recs, repeats = make([]SubjectRecord, 0, len(batch)), make([]int, 0, len(batch))
	for _, r := range batch {
		k := key{externalID: r.ExternalID}
		if r.ExternalID == "" {
			k.emailHMAC = r.EmailHMAC
		}
		if i, ok := at[k]; ok {
			recs[i] = r
			repeats[i]++
			continue
		}
		at[k] = len(recs)
		recs = append(recs, r)
		repeats = append(repeats, 1)
	}
	return recs, repeats
}
