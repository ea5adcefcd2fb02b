//! A synthetic HCL store for the site's benchmark and tests: `n` entries with the variety of a
//! real list — about one in twenty a system (a few thousand models at 100,000 entries), the
//! rest PCI components of some two hundred vendors and a dozen device classes, each certified
//! on OpenCloudOS 8.6 to 9.4 on x86_64 and aarch64, one to four times; every report covers
//! about ten entries, as a real run's does. Entry files are written directly (not through
//! [`Store::add`], which locks and fsyncs per report), on a few threads. Deterministic: the
//! same `n` makes the same store.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use documents::status::Status;
use hcl::{CaseResult, Certification, Entry, Key, Kind, Names, Store, SCHEMA};

use documents::Error;

/// What [`generate`] made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SynthStats {
    pub systems: usize,
    pub components: usize,
    pub reports: usize,
    pub certifications: usize,
}

/// splitmix64: a fast, good-enough deterministic generator.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn h(a: u64, b: u64) -> u64 {
    mix(mix(a) ^ b.wrapping_mul(0x2545_f491_4f6c_dd1d))
}

fn pick<T: Copy>(xs: &[T], r: u64) -> T {
    xs[(r % xs.len() as u64) as usize]
}

const RELEASES: [(&str, i64, i64); 6] = [
    // VERSION_ID, first and last day (days since 1970) of its certifications.
    ("8.6", 19_000, 19_900),
    ("8.8", 19_400, 20_300),
    ("8.10", 19_900, 20_500),
    ("9.0", 19_500, 20_000),
    ("9.2", 19_800, 20_500),
    ("9.4", 20_100, 20_520),
];
const ARCHES: [&str; 2] = ["x86_64", "aarch64"];

struct Class {
    id: &'static str,
    name: &'static str,
    drivers: &'static [&'static str],
    kinds: &'static [&'static str],
    cases: &'static [&'static str],
}

const CLASSES: [Class; 12] = [
    Class {
        id: "020000",
        name: "Ethernet controller",
        drivers: &[
            "ixgbe",
            "i40e",
            "ice",
            "mlx5_core",
            "bnxt_en",
            "hinic",
            "txgbe",
            "igb",
        ],
        kinds: &["10GbE", "25GbE", "100GbE", "1GbE", "40GbE"],
        cases: &[
            "network::link_up",
            "network::ping",
            "network::iperf",
            "network::offloads",
        ],
    },
    Class {
        id: "020700",
        name: "Infiniband controller",
        drivers: &["mlx5_core", "mlx4_core"],
        kinds: &["HDR", "EDR", "NDR"],
        cases: &["network::link_up", "infiniband::rdma_bw"],
    },
    Class {
        id: "010400",
        name: "RAID bus controller",
        drivers: &["megaraid_sas", "mpt3sas", "smartpqi", "hpsa"],
        kinds: &["12Gb/s RAID", "24Gb/s RAID", "Tri-Mode RAID"],
        cases: &["storage::controller", "storage::fio", "storage::smart"],
    },
    Class {
        id: "010700",
        name: "Serial Attached SCSI controller",
        drivers: &["mpt3sas", "hisi_sas_v3_hw", "pm80xx"],
        kinds: &["SAS HBA", "12Gb/s HBA"],
        cases: &["storage::controller", "storage::fio"],
    },
    Class {
        id: "010802",
        name: "Non-Volatile memory controller",
        drivers: &["nvme"],
        kinds: &["NVMe SSD", "U.2 NVMe", "E1.S NVMe"],
        cases: &["storage::fio", "storage::smart", "storage::trim"],
    },
    Class {
        id: "010601",
        name: "SATA controller",
        drivers: &["ahci"],
        kinds: &["AHCI", "SATA 6Gb/s"],
        cases: &["storage::controller", "storage::fio"],
    },
    Class {
        id: "0c0400",
        name: "Fibre Channel",
        drivers: &["lpfc", "qla2xxx"],
        kinds: &["32Gb FC", "64Gb FC", "16Gb FC"],
        cases: &["fc::link_up", "storage::fio"],
    },
    Class {
        id: "030000",
        name: "VGA compatible controller",
        drivers: &["ast", "mgag200", "hibmc-drm"],
        kinds: &["BMC graphics", "VGA"],
        cases: &["display::framebuffer"],
    },
    Class {
        id: "030200",
        name: "3D controller",
        drivers: &["nvidia", "amdgpu"],
        kinds: &["GPU", "accelerator"],
        cases: &["gpu::enumerate", "gpu::stress"],
    },
    Class {
        id: "120000",
        name: "Processing accelerators",
        drivers: &["qat_4xxx", "hisi_zip", "hisi_sec2"],
        kinds: &["crypto", "compression"],
        cases: &["accel::selftest"],
    },
    Class {
        id: "0c0330",
        name: "USB controller",
        drivers: &["xhci_hcd"],
        kinds: &["xHCI"],
        cases: &["usb::enumerate"],
    },
    Class {
        id: "010802",
        name: "Non-Volatile memory controller",
        drivers: &["nvme"],
        kinds: &["PCIe 4.0 SSD", "PCIe 5.0 SSD"],
        cases: &["storage::fio", "storage::smart"],
    },
];

/// Vendors a real list has; two hundred more are made up around them.
const VENDORS: [(&str, &str); 32] = [
    ("8086", "Intel Corporation"),
    ("15b3", "Mellanox Technologies"),
    ("14e4", "Broadcom Inc. and subsidiaries"),
    ("1000", "Broadcom / LSI"),
    ("19e5", "Huawei Technologies Co., Ltd."),
    ("144d", "Samsung Electronics Co Ltd"),
    ("10de", "NVIDIA Corporation"),
    ("1022", "Advanced Micro Devices, Inc. [AMD]"),
    ("1d6a", "Aquantia Corp."),
    ("11ab", "Marvell Technology Group Ltd."),
    ("10df", "Emulex Corporation"),
    ("1077", "QLogic Corp."),
    ("1924", "Solarflare Communications"),
    ("1d94", "Chengdu Haiguang IC Design Co., Ltd."),
    ("1db7", "Phytium Technology Co., Ltd."),
    ("1bd4", "Inspur Electronic Information Industry Co., Ltd."),
    ("1c5f", "Beijing Memblaze Technology Co. Ltd."),
    ("1bb1", "Seagate Technology PLC"),
    ("15b7", "Sandisk Corp"),
    ("1e0f", "KIOXIA Corporation"),
    ("10ec", "Realtek Semiconductor Co., Ltd."),
    ("1a03", "ASPEED Technology, Inc."),
    ("8088", "Beijing Wangxun Technology Co., Ltd."),
    ("1f0f", "Mucse"),
    ("1f67", "Yunsilicon"),
    ("9005", "Adaptec"),
    ("1cc4", "Union Memory (Shenzhen)"),
    ("1e3b", "Shenzhen DAPU Microelectronics Co., Ltd."),
    ("1dbe", "INNOGRIT Corporation"),
    ("1d82", "NETINT Technologies Inc."),
    ("1ded", "Alibaba (China) Co., Ltd."),
    ("1e81", "Ramaxel Technology(Shenzhen) Limited"),
];

/// Makers of servers and the OEMs whose subsystem IDs cards carry.
const OEMS: [(&str, &str, &str); 12] = [
    ("1bd4", "Inspur", "NF"),
    ("19e5", "Huawei", "TaiShan "),
    ("193d", "New H3C Technologies Co., Ltd.", "UniServer R"),
    ("17aa", "Lenovo", "ThinkSystem SR"),
    ("1028", "Dell Inc.", "PowerEdge R"),
    ("1590", "Hewlett Packard Enterprise", "ProLiant DL"),
    ("1d05", "Sugon", "I"),
    ("1ded", "Tencent", "TS"),
    ("1db7", "Phytium", "FT-S"),
    ("1e81", "Kunlun", "KunTai R"),
    ("1cf8", "Nettrix", "R"),
    ("1f4c", "Great Wall", "GW-"),
];

const LABS: [&str; 8] = [
    "hcl-lab@opencloudos.org",
    "ci-x86@opencloudos.tech",
    "ci-arm@opencloudos.tech",
    "lab@inspur.com",
    "compat@huawei.com",
    "hcl@h3c.com",
    "certify@lenovo.com",
    "lab@sugon.com",
];

/// A made-up vendor: (ID, name).
fn vendor(v: usize) -> (String, String) {
    if v < VENDORS.len() {
        let (id, name) = VENDORS[v];
        return (id.to_string(), name.to_string());
    }
    let r = h(v as u64, 7);
    let syll = [
        "Shen", "Hua", "Tian", "Xin", "Zhong", "Rui", "Kun", "Lan", "Ming", "Yun",
    ];
    let tail = [
        "Semiconductor Co., Ltd.",
        "Microelectronics",
        "Technology Co., Ltd.",
        "Networks Inc.",
        "Storage Systems",
        "Data Corp.",
    ];
    (
        format!("{:04x}", 0x2000 + v * 37 % 0xd000),
        format!(
            "{}{} {}",
            pick(&syll, r),
            pick(&syll, r >> 8).to_lowercase(),
            pick(&tail, r >> 16)
        ),
    )
}

/// Days since 1970 → `YYYY-MM-DDTHH:MM:SSZ`.
fn date(days: i64, secs: i64) -> String {
    let (y, m, d) = hwsys::time::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}

/// A small report.json (hwcert.report/1, one that hwcert reads and renders) of a synthetic
/// run: `n` entries certified on `rel` `arch` in the machine `host`, finished `when`; `run`
/// makes it unique.
pub fn report_json(run: u64, when: &str, rel: &str, arch: &str, host: &str, n: usize) -> String {
    let r = serde_json::json!({
        "schema": "hwcert.report/1",
        "tool": {"name": "hwcert", "version": "0.1.0", "git_commit": "synthetic"},
        "profile": {"name": "standard"},
        "run": {"directory": format!("run-{run}"), "started": when, "finished": when, "boot_ids": []},
        "verdict": {
            "overall": "certified",
            "summary": format!("Certified: synthetic run {run} of {n} entries on {host}, OpenCloudOS {rel} {arch}."),
            "failed_blockers": [], "incomplete": [], "advisory_failures": [], "components": []
        },
        "counts": {"total": 0, "pass": 0, "fail": 0, "skip": 0, "error": 0, "timeout": 0,
                   "crash": 0, "interrupted": 0, "not_run": 0},
        "results": [], "hcl": [], "logs": [], "warnings": [],
        "inventory": {}, "plan": {}
    });
    let mut s = r.to_string();
    s.push('\n');
    s
}

/// A report's hash and its files (name, bytes).
type ReportFiles = (String, Vec<(String, Vec<u8>)>);

struct Planned {
    key: Key,
    names: Names,
    class: usize,
    /// How many certifications.
    certs: usize,
}

/// Make a store of `n` entries in `dir` (created; it should not hold a store already).
/// A synthetic lab's signing key, the same for the same lab: every synthetic report carries a
/// real signature of it (`ssh-keygen -Y verify` accepts it with [`LabKey::allowed_signers`]),
/// and its certifications the key's real fingerprint.
pub struct LabKey {
    pub key: reports::keys::PrivateKey,
    pub fingerprint: String,
    /// The allowed_signers line that admits the key for the lab's name.
    pub allowed_signers: String,
}

impl LabKey {
    /// The armored SSHSIG of `msg` in the reports' namespace.
    pub fn sign(&self, msg: &str) -> Result<Vec<u8>, Error> {
        reports::keys::sign(&self.key, msg.as_bytes()).map(String::into_bytes)
    }
}

/// The key of the synthetic lab `lab` (its seed: the SHA-256 of the name), made once.
pub fn lab_key(lab: &str) -> &'static LabKey {
    static KEYS: std::sync::Mutex<BTreeMap<String, &'static LabKey>> =
        std::sync::Mutex::new(BTreeMap::new());
    let mut keys = KEYS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(k) = keys.get(lab) {
        return k;
    }
    let digest = hwsys::hash::sha256_hex(lab.as_bytes());
    let mut seed = [0u8; 32];
    for (i, b) in seed.iter_mut().enumerate() {
        *b = u8::from_str_radix(&digest[2 * i..2 * i + 2], 16).unwrap_or(0);
    }
    let key = reports::keys::key_from_seed(&seed, lab);
    let fingerprint = reports::keys::fingerprint(key.public_key());
    let allowed_signers =
        reports::keys::allowed_signers_line(lab, key.public_key()).unwrap_or_default();
    let k: &'static LabKey = Box::leak(Box::new(LabKey {
        key,
        fingerprint,
        allowed_signers,
    }));
    keys.insert(lab.to_string(), k);
    k
}

pub fn generate(dir: &Path, n: usize, threads: usize) -> Result<SynthStats, Error> {
    let store = Store::create(dir).map_err(|e| Error::msg(e.to_string()))?;
    let n_systems = n.div_ceil(20);
    let n_components = n - n_systems;
    let vendors = 32 + (n / 500).min(200);
    let mut planned: Vec<Planned> = Vec::with_capacity(n);
    let mut stats = SynthStats::default();

    // Systems: each model on two releases or architectures.
    for j in 0..n_systems {
        let model = j / 2;
        let r = h(model as u64, 1);
        let combo0 = (r % 12) as usize;
        let combo = if j % 2 == 0 {
            combo0
        } else {
            (combo0 + 1 + (r >> 8) as usize % 11) % 12
        };
        let (rel, _, _) = RELEASES[combo % 6];
        let arch = ARCHES[combo / 6];
        let (_, oem, series) = pick(&OEMS, r >> 16);
        let product = format!(
            "{series}{}{}",
            5000 + (r >> 24) % 4000 / 10 * 10,
            pick(
                &["", "M5", "M6", "M7", " G2", " Gen11", " V2", "K"],
                r >> 40
            )
        );
        // Several model numbers per series: keep the product unique per model.
        let product = format!("{product}-{model:04}");
        let key = Key::system(oem, &product, "opencloudos", rel, arch)
            .map_err(|e| Error::msg(e.to_string()))?;
        planned.push(Planned {
            key,
            names: Names {
                vendor: Some(oem.to_string()),
                name: Some(product),
                class: Some("System".into()),
                ..Names::default()
            },
            class: usize::MAX,
            certs: 1 + (h(j as u64, 2) % 100 / 35) as usize,
        });
    }
    // Components: a device with its subsystem, on four release/architecture pairs.
    for j in 0..n_components {
        let d = j / 4;
        let r = h(d as u64, 3);
        // Some vendors are much bigger than others.
        let v = ((r % 1000) * (r % 1000) / 1000 * vendors as u64 / 1000) as usize;
        let (vid, vname) = vendor(v);
        let class = ((r >> 10) % CLASSES.len() as u64) as usize;
        let c = &CLASSES[class];
        let did = format!(
            "{:04x}",
            0x1000 + (r >> 20) % 64 * 0x11 + class as u64 + (d / 0x10000) as u64 * 0x800
        );
        let (svid, oem, _) = pick(&OEMS, r >> 30);
        let sdid = format!("{:04x}", d % 0x10000);
        let combo = ((r >> 40) as usize + 5 * (j % 4)) % 12;
        let (rel, _, _) = RELEASES[combo % 6];
        let arch = ARCHES[combo / 6];
        let key = Key::pci(&vid, &did, Some((svid, &sdid)), "opencloudos", rel, arch)
            .map_err(|e| Error::msg(e.to_string()))?;
        let model = format!(
            "{} {}{}",
            pick(c.kinds, r >> 44),
            pick(&["X", "E", "P", "N", "S", "M"], r >> 48),
            100 + (r >> 52) % 900
        );
        planned.push(Planned {
            key,
            names: Names {
                vendor: Some(vname),
                name: Some(model.clone()),
                subsystem_vendor: Some(oem.to_string()),
                subsystem: Some(format!("{}-port {model}", 1 + (r >> 56) % 4)),
                class_id: Some(c.id.to_string()),
                class: Some(c.name.to_string()),
            },
            class,
            certs: 1 + (h(j as u64, 4) % 100 / 30).min(3) as usize,
        });
    }
    stats.systems = n_systems;
    stats.components = n_components;

    // Certifications grouped into runs of about ten entries of one release and architecture.
    let mut buckets: BTreeMap<(String, String), Vec<(usize, usize)>> = BTreeMap::new();
    for (i, p) in planned.iter().enumerate() {
        for t in 0..p.certs {
            buckets
                .entry((p.key.os_version_id.clone(), p.key.arch.clone()))
                .or_default()
                .push((i, t));
        }
    }
    let mut certs: Vec<Vec<Certification>> = vec![Vec::new(); planned.len()];
    let mut reports: Vec<ReportFiles> = Vec::new();
    for ((rel, arch), mut pairs) in buckets {
        // A deterministic shuffle.
        for i in (1..pairs.len()).rev() {
            let k = (h(i as u64, pairs.len() as u64) % (i as u64 + 1)) as usize;
            pairs.swap(i, k);
        }
        let (_, first, last) = RELEASES
            .iter()
            .find(|x| x.0 == rel)
            .copied()
            .unwrap_or(RELEASES[0]);
        for run in pairs.chunks(10) {
            let rn = reports.len() as u64;
            let r = h(rn, 5);
            let days = first + (r % (last - first + 1) as u64) as i64;
            let when = date(days, (r >> 20) as i64 % 86_400);
            let (_, oem, series) = pick(&OEMS, r >> 8);
            let host = format!("{oem} {series}{}", 5000 + (r >> 12) % 400 * 10);
            let lab = pick(&LABS, r >> 28);
            let json = report_json(rn, &when, &rel, &arch, &host, run.len());
            let sha = hwsys::hash::sha256_hex(json.as_bytes());
            // What a store holds of a report: what was signed (the renderings are the site's).
            let files = vec![
                ("report.json".to_string(), json.as_bytes().to_vec()),
                ("report.json.sig".to_string(), lab_key(lab).sign(&json)?),
            ];
            let kernel = if rel.starts_with('8') {
                format!("5.4.119-20.0009.{}.oc8.{arch}", 20 + r % 30)
            } else {
                format!("6.6.{}-{}.oc9.{arch}", 6 + r % 60, 1 + (r >> 6) % 20)
            };
            for (slot, &(i, _)) in run.iter().enumerate() {
                let p = &planned[i];
                if certs[i].iter().any(|c| c.report_sha256 == sha) {
                    continue;
                }
                let rr = h(rn, slot as u64 + 100);
                let addr = format!("0000:{:02x}:00.{}", 0x10 + rr % 0xe0, rr >> 8 & 3);
                let mut details = BTreeMap::new();
                let (cases, driver, driver_version, firmware, system) = if p.key.kind()
                    == Kind::System
                {
                    let me = format!(
                        "{} {}",
                        p.key.system_vendor.as_deref().unwrap_or(""),
                        p.key.system_product.as_deref().unwrap_or("")
                    );
                    details.insert("board".into(), format!("{me} board rev {}", rr % 5));
                    details.insert(
                        "cpu_model".into(),
                        if arch == "aarch64" {
                            "Kunpeng-920".to_string()
                        } else {
                            pick(
                                &[
                                    "Intel(R) Xeon(R) Platinum 8480+",
                                    "Hygon C86 7390 32-core Processor",
                                    "AMD EPYC 9654 96-Core Processor",
                                ],
                                rr,
                            )
                            .to_string()
                        },
                    );
                    let cases: Vec<CaseResult> = [
                        "system::dmi",
                        "system::kdump",
                        "system::reboot",
                        "cpu::all_online",
                        "cpu::stress",
                        "cpu::frequency",
                        "memory::size",
                        "memory::stress",
                        "memory::ecc",
                        "system::ipmi",
                        "system::watchdog",
                        "system::rtc",
                        "system::power",
                        "system::acpi",
                        "system::secure_boot",
                    ]
                    .iter()
                    .enumerate()
                    .map(|(k, name)| CaseResult {
                        name: name.to_string(),
                        status: if h(rr, k as u64).is_multiple_of(17) {
                            Status::Skip
                        } else {
                            Status::Pass
                        },
                        blocker: k < 8,
                    })
                    .collect();
                    (
                        cases,
                        None,
                        None,
                        Some(format!("BIOS {}.{}.{}", rr % 9, rr >> 4 & 31, rr >> 9 & 15)),
                        None,
                    )
                } else {
                    let c = &CLASSES[p.class];
                    details.insert("pci_address".into(), addr.clone());
                    details.insert("revision".into(), format!("{:02x}", rr >> 12 & 7));
                    let mut cases = vec![CaseResult {
                        name: format!("pci::driver_bound::{addr}"),
                        status: Status::Pass,
                        blocker: true,
                    }];
                    for (k, name) in c.cases.iter().enumerate() {
                        cases.push(CaseResult {
                            name: format!("{name}::{addr}"),
                            status: if h(rr, k as u64).is_multiple_of(23) {
                                Status::Skip
                            } else {
                                Status::Pass
                            },
                            blocker: k == 0,
                        });
                    }
                    let drv = pick(c.drivers, h(i as u64 / 4, 9));
                    let ver = format!("{}.{}.{}", 1 + rr % 5, rr >> 5 & 31, rr >> 10 & 63);
                    let fw = (!rr.is_multiple_of(3))
                        .then(|| format!("{}.{}.{}", rr >> 14 & 31, rr >> 19 & 99, rr >> 26 & 999));
                    (
                        cases,
                        Some(drv.to_string()),
                        (!rr.is_multiple_of(4)).then_some(ver),
                        fw,
                        Some(host.clone()),
                    )
                };
                certs[i].push(Certification {
                    report_sha256: sha.clone(),
                    date: when.clone(),
                    added: date(days + 1 + (rr % 20) as i64, (rr >> 30) as i64 % 86_400),
                    profile: pick(
                        &["standard", "standard", "standard", "quick", "full"],
                        rr >> 34,
                    )
                    .into(),
                    signed_by: lab.to_string(),
                    signing_key: lab_key(lab).fingerprint.clone(),
                    tool_version: pick(&["0.1.0", "0.2.0", "0.3.1"], days as u64 / 200).into(),
                    os: Some(format!("OpenCloudOS {rel}")),
                    kernel: Some(kernel.clone()),
                    driver,
                    driver_version,
                    firmware,
                    system,
                    details,
                    cases,
                    revocation: None,
                });
                stats.certifications += 1;
            }
            reports.push((sha, files));
        }
    }
    stats.reports = reports.len();

    // Write: reports, then entries, on a few threads.
    let threads = threads.clamp(1, 16);
    let write_report = |(sha, files): &ReportFiles| -> Result<(), Error> {
        let d = store.report_dir(sha);
        fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
        for (name, bytes) in files {
            let p = d.join(name);
            fs::write(&p, bytes).map_err(|e| Error::io(&p, e))?;
        }
        Ok(())
    };
    let write_entry = |(p, mut c): (&Planned, Vec<Certification>)| -> Result<(), Error> {
        c.sort_by(|a, b| b.date.cmp(&a.date));
        let e = Entry {
            schema: SCHEMA.into(),
            id: p.key.id(),
            kind: p.key.kind(),
            key: p.key.clone(),
            names: p.names.clone(),
            certifications: c,
        };
        let path = store.entry_path(e.kind, &e.id);
        fs::write(&path, e.to_file_bytes()).map_err(|err| Error::io(&path, err))
    };
    let items: Vec<(&Planned, Vec<Certification>)> = planned.iter().zip(certs).collect();
    let chunk_r = reports.len().div_ceil(threads).max(1);
    let mut items_parts: Vec<Vec<(&Planned, Vec<Certification>)>> = Vec::new();
    let chunk_e = items.len().div_ceil(threads).max(1);
    let mut it = items.into_iter().peekable();
    while it.peek().is_some() {
        items_parts.push(it.by_ref().take(chunk_e).collect());
    }
    std::thread::scope(|s| -> Result<(), Error> {
        let mut hs = Vec::new();
        for part in reports.chunks(chunk_r) {
            hs.push(s.spawn(move || part.iter().try_for_each(write_report)));
        }
        for h in hs {
            h.join()
                .map_err(|_| Error::msg("synth: a thread panicked"))??;
        }
        let mut hs = Vec::new();
        for part in items_parts {
            hs.push(s.spawn(move || part.into_iter().try_for_each(write_entry)));
        }
        for h in hs {
            h.join()
                .map_err(|_| Error::msg("synth: a thread panicked"))??;
        }
        Ok(())
    })?;
    Ok(stats)
}
