use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rcgen::{KeyPair, PublicKeyData as _};
use warden_core::SystemEntropy;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use super::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const NOW: Timestamp = Timestamp::from_unix(1_700_000_000);
const DAY: u64 = 86_400;

fn master_key() -> MasterKey {
    MasterKey::generate(&SystemEntropy)
}

fn new_ca(master_key: &MasterKey, validity_days: u32) -> Result<(CertificateAuthority, CaRecord), IdentityError> {
    CertificateAuthority::generate("Warden test CA", NOW, validity_days, master_key, &SystemEntropy)
}

/// A CSR that asks for far more than it should get: CN=admin, a DNS name, CA powers, server auth.
fn greedy_csr() -> Result<String, rcgen::Error> {
    greedy_csr_for(&KeyPair::generate()?)
}

fn greedy_csr_for(key: &KeyPair) -> Result<String, rcgen::Error> {
    let mut params = CertificateParams::new(vec!["evil.example".to_string()])?;
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, "admin");
    params.distinguished_name.push(DnType::OrganizationName, "Warden");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.serialize_request(key)?.pem()
}

fn pem_to_der(pem: &str) -> Result<Vec<u8>, String> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map(|der| der.to_vec())
        .map_err(|e| format!("{e:?}"))
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>, Box<dyn std::error::Error>> {
    let (rest, certificate) = X509Certificate::from_der(der)?;
    if !rest.is_empty() {
        return Err("trailing bytes after the certificate".into());
    }
    Ok(certificate)
}

fn issue(
    ca: &CertificateAuthority,
    validity_days: u32,
) -> Result<(Vec<u8>, CertificateRecord), Box<dyn std::error::Error>> {
    let csr = greedy_csr()?;
    let (pem, record) = ca.sign_csr(&csr, "agent-1", "research_bot", NOW, validity_days, &SystemEntropy)?;
    Ok((pem_to_der(&pem)?, record))
}

#[test]
fn the_ca_certificate_is_a_constrained_self_signed_ca() -> TestResult {
    let (ca, record) = new_ca(&master_key(), 3650)?;
    assert_eq!(record.certificate_pem, ca.certificate_pem());
    assert_eq!(record.created_at, NOW);
    assert_eq!(pem_to_der(ca.certificate_pem())?, ca.certificate_der());
    let certificate = parse(ca.certificate_der())?;
    certificate.verify_signature(None)?;
    let constraints = certificate.basic_constraints()?.ok_or("no basic constraints")?;
    assert!(constraints.value.ca);
    assert_eq!(constraints.value.path_len_constraint, Some(0));
    let usage = certificate.key_usage()?.ok_or("no key usage")?;
    assert!(usage.value.key_cert_sign() && usage.value.crl_sign());
    assert_eq!(certificate.validity().not_before.timestamp(), NOW.minus(60).unix());
    assert_eq!(
        certificate.validity().not_after.timestamp(),
        NOW.plus(3650 * DAY).unix()
    );
    let cn = certificate
        .subject()
        .iter_common_name()
        .next()
        .ok_or("no CN")?
        .as_str()?;
    assert_eq!(cn, "Warden test CA");
    Ok(())
}

#[test]
fn an_issued_certificate_chains_to_the_ca_and_names_only_the_agent() -> TestResult {
    let (ca, _) = new_ca(&master_key(), 3650)?;
    let ca_certificate = parse(ca.certificate_der())?;
    let (der, _) = issue(&ca, 30)?;
    let leaf = parse(&der)?;

    leaf.verify_signature(Some(ca_certificate.public_key()))?;
    assert_eq!(leaf.issuer(), ca_certificate.subject());

    let cn = leaf.subject().iter_common_name().next().ok_or("no CN")?.as_str()?;
    let organizations: Vec<_> = leaf
        .subject()
        .iter_organization()
        .filter_map(|o| o.as_str().ok())
        .collect();
    assert_eq!(cn, "research_bot", "the CSR's CN=admin must not be copied");
    assert_eq!(organizations, vec![AGENT_ORGANIZATION]);

    let san = leaf.subject_alternative_name()?.ok_or("no SAN")?;
    let names: Vec<String> = san.value.general_names.iter().map(|n| n.to_string()).collect();
    assert_eq!(
        names,
        vec!["URI(urn:warden:agent:agent-1)".to_string()],
        "the CSR's DNS name must not be copied"
    );
    assert_eq!(agent_id_from_certificate(&der).as_deref(), Some("agent-1"));

    let eku = leaf.extended_key_usage()?.ok_or("no EKU")?.value;
    assert!(eku.client_auth && !eku.server_auth && !eku.any && eku.other.is_empty());
    let constraints = leaf.basic_constraints()?.ok_or("no basic constraints")?;
    assert!(!constraints.value.ca, "the CSR asked for CA powers");
    Ok(())
}

#[test]
fn the_certificate_carries_the_requesters_key_whatever_its_algorithm() -> TestResult {
    let (ca, _) = new_ca(&master_key(), 3650)?;
    let ca_certificate = parse(ca.certificate_der())?;
    for algorithm in [
        &rcgen::PKCS_ECDSA_P256_SHA256,
        &rcgen::PKCS_ECDSA_P384_SHA384,
        &rcgen::PKCS_ED25519,
    ] {
        let key = KeyPair::generate_for(algorithm)?;
        let csr = greedy_csr_for(&key)?;
        let (pem, _) = ca.sign_csr(&csr, "agent-1", "bot", NOW, 30, &SystemEntropy)?;
        let der = pem_to_der(&pem)?;
        let leaf = parse(&der)?;
        leaf.verify_signature(Some(ca_certificate.public_key()))?;
        assert_eq!(leaf.public_key().raw, key.subject_public_key_info().as_slice());
    }
    Ok(())
}

#[test]
fn the_record_describes_the_certificate() -> TestResult {
    let (ca, _) = new_ca(&master_key(), 3650)?;
    let (der, record) = issue(&ca, 30)?;
    let leaf = parse(&der)?;
    assert_eq!(record.fingerprint, fingerprint(&der));
    assert_eq!(record.fingerprint.len(), 64);
    assert!(
        record
            .fingerprint
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert_eq!(record.serial, lower_hex(leaf.raw_serial()));
    assert_eq!(leaf.raw_serial().len(), 16);
    assert_eq!(leaf.raw_serial()[0] & 0x80, 0, "serials are positive");
    assert_eq!(
        (record.agent_id.as_str(), record.created_at, record.revoked_at),
        ("agent-1", NOW, None)
    );
    assert_eq!(record.not_after, NOW.plus(30 * DAY));
    assert_eq!(leaf.validity().not_after.timestamp(), NOW.plus(30 * DAY).unix());
    assert_eq!(leaf.validity().not_before.timestamp(), NOW.minus(60).unix());
    let (_, second) = issue(&ca, 30)?;
    assert_ne!(record.serial, second.serial, "serials are random");
    Ok(())
}

#[test]
fn certificates_do_not_outlive_the_ca() -> TestResult {
    let (ca, _) = new_ca(&master_key(), 10)?;
    let (der, record) = issue(&ca, 30)?;
    assert_eq!(record.not_after, NOW.plus(10 * DAY));
    assert_eq!(parse(&der)?.validity().not_after.timestamp(), NOW.plus(10 * DAY).unix());
    let csr = greedy_csr()?;
    let late = ca.sign_csr(&csr, "agent-1", "bot", NOW.plus(10 * DAY), 30, &SystemEntropy);
    assert!(matches!(late, Err(IdentityError::Certificate(_))));
    Ok(())
}

#[test]
fn broken_csrs_are_refused_without_panicking() -> TestResult {
    let (ca, _) = new_ca(&master_key(), 3650)?;
    let csr = greedy_csr()?;
    let mut der = rustls_pki_types::CertificateSigningRequestDer::from_pem_slice(csr.as_bytes())
        .map_err(|e| format!("{e:?}"))?
        .to_vec();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let bad_signature = format!(
        "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
        STANDARD.encode(&der)
    );
    let inputs = [
        bad_signature,
        String::new(),
        "garbage".into(),
        "-----BEGIN CERTIFICATE REQUEST-----\nZm9vYmFy\n-----END CERTIFICATE REQUEST-----\n".into(),
        ca.certificate_pem().to_owned(),
        csr.repeat(200),
    ];
    for input in &inputs {
        let result = ca.sign_csr(input, "agent-1", "bot", NOW, 30, &SystemEntropy);
        assert!(
            matches!(result, Err(IdentityError::Invalid { field: "csr", .. })),
            "{input:.60} accepted"
        );
    }
    Ok(())
}

#[test]
fn bad_agent_ids_names_and_validity_are_refused() -> TestResult {
    let (ca, _) = new_ca(&master_key(), 3650)?;
    let csr = greedy_csr()?;
    for (id, name, days) in [
        ("", "bot", 30),
        ("a:b", "bot", 30),
        ("a/b", "bot", 30),
        ("a1", "", 30),
        ("a1", "x y", 30),
        ("a1", "bot", 0),
    ] {
        let result = ca.sign_csr(&csr, id, name, NOW, days, &SystemEntropy);
        assert!(
            matches!(result, Err(IdentityError::Invalid { .. })),
            "{id:?} {name:?} {days}"
        );
    }
    let huge = ca.sign_csr(&csr, "a1", "bot", NOW, u32::MAX, &SystemEntropy);
    assert!(huge.is_err());
    assert!(new_ca(&master_key(), 0).is_err());
    assert!(CertificateAuthority::generate("", NOW, 30, &master_key(), &SystemEntropy).is_err());
    Ok(())
}

#[test]
fn a_loaded_ca_signs_like_the_original() -> TestResult {
    let key = master_key();
    let (original, record) = new_ca(&key, 3650)?;
    let loaded = CertificateAuthority::load(&record, &key)?;
    assert_eq!(loaded.certificate_der(), original.certificate_der());
    let (der, _) = issue(&loaded, 30)?;
    parse(&der)?.verify_signature(Some(parse(original.certificate_der())?.public_key()))?;
    Ok(())
}

#[test]
fn load_fails_with_the_wrong_master_key_or_a_mismatched_key() -> TestResult {
    let key = master_key();
    let (_, record) = new_ca(&key, 3650)?;
    let wrong = CertificateAuthority::load(&record, &master_key());
    assert!(matches!(wrong, Err(IdentityError::Sealing(_))));

    let (_, other) = new_ca(&key, 3650)?;
    let swapped = CaRecord {
        sealed_key: other.sealed_key,
        ..record.clone()
    };
    assert!(matches!(
        CertificateAuthority::load(&swapped, &key),
        Err(IdentityError::Certificate(_))
    ));

    let broken = CaRecord {
        certificate_pem: "nope".into(),
        ..record
    };
    assert!(CertificateAuthority::load(&broken, &key).is_err());
    Ok(())
}

#[test]
fn agent_ids_are_read_only_from_well_formed_certificates() -> TestResult {
    let (ca, _) = new_ca(&master_key(), 3650)?;
    assert_eq!(
        agent_id_from_certificate(ca.certificate_der()),
        None,
        "the CA has no agent SAN"
    );
    assert_eq!(agent_id_from_certificate(b"garbage"), None);
    assert_eq!(agent_id_from_certificate(&[]), None);
    Ok(())
}

#[test]
fn debug_shows_no_key_material() -> TestResult {
    let (ca, record) = new_ca(&master_key(), 3650)?;
    let shown = format!("{ca:?}");
    let pkcs8 = ca.issuer.key().serialized_der();
    assert!(shown.contains("fingerprint"), "{shown}");
    assert!(
        !shown.contains(&lower_hex(pkcs8)) && !shown.contains(&STANDARD.encode(pkcs8)),
        "{shown}"
    );
    assert!(!shown.contains(&lower_hex(&record.sealed_key)));
    Ok(())
}
