//! `POST /V3/Authenticate?type=certificate`: what the fake reads of the certificate in the
//! body. It cannot play the rest (the answer is a token encrypted to the certificate's GOST
//! key), so it only tells a certificate from anything else and names it by its thumbprint.

/// The thumbprint of `body` when it is a DER X.509 certificate, written as Windows and Diadoc
/// write one: the SHA-1 of the DER in uppercase hex (40 digits). `None` for anything else.
pub(super) fn thumbprint(body: &[u8]) -> Option<String> {
    is_certificate(body).then(|| {
        sha1_smol::Sha1::from(body)
            .digest()
            .bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect()
    })
}

/// `Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE,
/// signatureValue BIT STRING }` in DER, filling `body` exactly. The fields inside are not read.
fn is_certificate(body: &[u8]) -> bool {
    const SEQUENCE: u8 = 0x30;
    const BIT_STRING: u8 = 0x03;
    let Some((SEQUENCE, fields, [])) = tlv(body) else {
        return false;
    };
    let mut rest = fields;
    for expected in [SEQUENCE, SEQUENCE, BIT_STRING] {
        match tlv(rest) {
            Some((tag, _, after)) if tag == expected => rest = after,
            _ => return false,
        }
    }
    rest.is_empty()
}

/// One DER element at the start of `input`: (tag, contents, what follows). `None` for a
/// truncated element, an indefinite (`0x80`) or non-minimal length, or a length past the input
/// (lengths up to 2^64 - 1 are read; a longer one overflows and is refused).
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    // One tag byte: a multi-byte tag is never one of the few a certificate's top level has.
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        u64::from(first)
    } else {
        let (bytes, after) = rest.split_at_checked(usize::from(first & 0x7f))?;
        rest = after;
        let len = bytes
            .iter()
            .try_fold(0u64, |len, &b| Some(len.checked_mul(256)? + u64::from(b)))?;
        // DER: the long form only where the short one cannot do (which refuses `0x80`, no
        // bytes at all), and no leading zero byte.
        if len < 0x80 || bytes.first() == Some(&0) {
            return None;
        }
        len
    };
    let (contents, after) = rest.split_at_checked(usize::try_from(len).ok()?)?;
    Some((tag, contents, after))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A minimal certificate shape: SEQUENCE { SEQUENCE {}, SEQUENCE {}, BIT STRING 0 }.
    const SHAPE: &[u8] = &[0x30, 0x07, 0x30, 0x00, 0x30, 0x00, 0x03, 0x01, 0x00];

    #[test]
    fn sha1_is_the_standard_one() {
        // FIPS 180-2, appendix A.1.
        assert_eq!(
            sha1_smol::Sha1::from("abc").digest().to_string(),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn the_thumbprint_is_uppercase_sha1_of_the_whole_body() {
        let thumb = thumbprint(SHAPE).unwrap();
        assert_eq!(thumb.len(), 40);
        assert_eq!(
            thumb,
            sha1_smol::Sha1::from(SHAPE).digest().to_string().to_uppercase()
        );
    }

    /// `tag`, the minimal DER length of `contents`, `contents`.
    fn der(tag: u8, contents: &[u8]) -> Vec<u8> {
        let len = contents.len().to_be_bytes();
        let significant = &len[len.iter().take_while(|&&b| b == 0).count()..];
        let mut out = vec![tag];
        match significant {
            [b] if *b < 0x80 => out.push(*b),
            [] => out.push(0),
            bytes => {
                out.push(0x80 | u8::try_from(bytes.len()).unwrap());
                out.extend(bytes);
            }
        }
        out.extend(contents);
        out
    }

    /// The three fields of a certificate shape, its signature `n` zero bytes.
    fn fields(n: usize) -> Vec<u8> {
        [der(0x30, &[]), der(0x30, &[]), der(0x03, &vec![0; n])].concat()
    }

    #[test]
    fn lengths_of_every_size_are_read() {
        // Outer lengths 9, 127, 128 (the least long form), 206, 306 (two bytes), 70,006 (three).
        for n in [3, 121, 122, 200, 300, 70_000] {
            let body = der(0x30, &fields(n));
            assert_eq!(thumbprint(&body).map(|t| t.len()), Some(40), "{n}");
            let mut longer = body.clone();
            longer.push(0);
            assert_eq!(thumbprint(&longer), None, "{n}: one byte past the outer SEQUENCE");
        }
    }

    #[test]
    fn a_length_der_forbids_is_refused_even_where_it_would_fit() {
        let inner = fields(122); // 128 bytes
        assert_eq!(inner.len(), 128);
        let with = |prefix: &[u8]| [prefix, &inner].concat();
        assert!(is_certificate(&with(&[0x30, 0x81, 0x80])));
        for (what, prefix) in [
            ("indefinite", &[0x30, 0x80][..]),
            ("a leading zero byte", &[0x30, 0x82, 0x00, 0x80]),
            (
                "nine length bytes",
                &[0x30, 0x89, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x80],
            ),
        ] {
            assert!(!is_certificate(&with(prefix)), "{what}");
        }
        // The short form in the long one.
        let short = fields(3);
        assert!(!is_certificate(&[&[0x30, 0x81, 0x09][..], &short].concat()));
    }

    #[test]
    fn what_der_forbids_is_no_certificate() {
        for (what, body) in [
            ("empty", &[][..]),
            ("the tag alone", &[0x30]),
            ("indefinite length", &[0x30, 0x80, 0x30, 0x00, 0x00, 0x00]),
            ("reserved length byte", &[0x30, 0xff, 0x00]),
            (
                "long form for a short length",
                &[0x30, 0x81, 0x07, 0x30, 0x00, 0x30, 0x00, 0x03, 0x01, 0x00],
            ),
            ("a leading zero length byte", &[0x30, 0x82, 0x00, 0x80]),
            ("a length with too few bytes", &[0x30, 0x82, 0x01]),
            ("a multi-byte tag", &[0x1f, 0x81, 0x00, 0x00]),
            (
                "a length of 2^64 - 1",
                &[0x30, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00],
            ),
            ("nine length bytes", &[0x30, 0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
            ("two fields", &[0x30, 0x04, 0x30, 0x00, 0x30, 0x00]),
            (
                "a fourth field",
                &[0x30, 0x09, 0x30, 0x00, 0x30, 0x00, 0x03, 0x01, 0x00, 0x05, 0x00],
            ),
            (
                "a NULL for the signature",
                &[0x30, 0x06, 0x30, 0x00, 0x30, 0x00, 0x05, 0x00],
            ),
        ] {
            assert_eq!(thumbprint(body), None, "{what}");
        }
    }

    proptest! {
        #[test]
        fn any_bytes_are_read_without_a_panic(body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = thumbprint(&body);
        }

        #[test]
        fn a_certificate_cut_short_or_lengthened_is_none(cut in 0..SHAPE.len(), extra in 1u8..=255) {
            prop_assert!(thumbprint(&SHAPE[..cut]).is_none());
            let mut longer = SHAPE.to_vec();
            longer.push(extra);
            prop_assert!(thumbprint(&longer).is_none());
        }
    }
}
