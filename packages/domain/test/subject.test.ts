import t from 'tap'
import { canonicalSubject, sameSubject } from '../src/subject.js'

t.test('canonicalSubject folds case and compatibility forms', async (t) => {
  const cases: { name: string; subject: string; canonical: string }[] = [
    { name: 'already canonical', subject: 'jane-x', canonical: 'jane-x' },
    { name: 'capitals', subject: 'JANE-X', canonical: 'jane-x' },
    { name: 'mixed case', subject: 'Jane-X', canonical: 'jane-x' },
    {
      name: 'full-width letters (NFKC)',
      subject: '\uff4a\uff41\uff4e\uff45-\uff58',
      canonical: 'jane-x',
    },
    { name: 'a zero-width space inside', subject: 'jane\u200b-x', canonical: 'jane-x' },
    { name: 'a soft hyphen inside', subject: 'ja\u00adne-x', canonical: 'jane-x' },
    { name: 'a combining accent (NFC)', subject: 'jose\u0301', canonical: 'jos\u00e9' },
    { name: 'a precomposed capital accent', subject: 'JOS\u00c9', canonical: 'jos\u00e9' },
    { name: 'sharp s folds to ss', subject: 'stra\u00dfe', canonical: 'strasse' },
    { name: 'capital sharp s folds to ss', subject: 'STRA\u1e9eE', canonical: 'strasse' },
    { name: 'the Kelvin sign is a k', subject: '\u212aim', canonical: 'kim' },
    { name: 'a ligature (NFKC)', subject: '\ufb01nn', canonical: 'finn' },
    { name: 'Greek capitals', subject: '\u039d\u0399\u039a\u039f\u03a3', canonical: 'νικος' },
    { name: 'a pipeline subject', subject: 'Checkout-CI', canonical: 'checkout-ci' },
  ]
  for (const { name, subject, canonical } of cases) {
    t.equal(canonicalSubject(subject), canonical, name)
  }
})

t.test('sameSubject tells identities apart only where a reader could', async (t) => {
  const cases: { a: string; b: string; same: boolean }[] = [
    { a: 'jane-x', b: 'JANE-X', same: true },
    { a: 'jane-x', b: '\uff2a\uff21\uff2e\uff25-\uff38', same: true },
    { a: 'jane-x', b: 'jane\u2060-x', same: true },
    { a: 'σίσυφοσ', b: 'ΣΊΣΥΦΟΣ', same: true },
    { a: 'jane-x', b: 'jane-y', same: false },
    { a: 'jane-x', b: 'jane_x', same: false },
    { a: 'jane-x', b: ' jane-x', same: false },
    { a: 'jose', b: 'jos\u00e9', same: false },
    { a: 'ann', b: 'anne', same: false },
  ]
  for (const { a, b, same } of cases) {
    t.equal(sameSubject(a, b), same, `${JSON.stringify(a)} and ${JSON.stringify(b)}`)
    t.equal(sameSubject(b, a), same, `${JSON.stringify(b)} and ${JSON.stringify(a)}`)
  }
})
