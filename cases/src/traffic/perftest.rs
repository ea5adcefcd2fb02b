//! perftest's results (`ib_write_bw`, `ib_read_lat`, and the other `ib_*_bw` / `ib_*_lat`)
//! and an InfiniBand port's rate (`sys/class/infiniband/<dev>/ports/<n>/rate`).
//!
//! perftest prints a table between dashed rules: a header line that begins with `#bytes`
//! and one result row per message size. Columns are found by their header names, so the
//! bandwidth parser reads `BW average[Gb/sec]` (with `--report_gbits`) or
//! `BW average[MB/sec]`, and the latency parser `t_typical[usec]`, `t_avg[usec]` and
//! `99% percentile[usec]`. Notes printed between the header and the rows ("Conflicting CPU
//! frequency values detected") are passed over. The tests run on outputs recorded on real
//! adapters (ConnectX-3 InfiniBand, ConnectX-5 RoCE, mlx5 RoCE), from the public sources named
//! in `cases/tests/fixtures/perftest/README.md`.

/// One bandwidth row.
#[derive(Debug, Clone, PartialEq)]
pub struct Bandwidth {
    pub bytes: u64,
    pub iterations: u64,
    /// Average bandwidth in Gb/s (MB/sec converted: perftest's MB is 2^20 bytes).
    pub average_gbps: f64,
    pub peak_gbps: Option<f64>,
    pub msg_rate_mpps: Option<f64>,
}

/// One latency row.
#[derive(Debug, Clone, PartialEq)]
pub struct Latency {
    pub bytes: u64,
    pub iterations: u64,
    pub typical_us: f64,
    pub avg_us: Option<f64>,
    pub p99_us: Option<f64>,
    pub max_us: Option<f64>,
}

/// The header's column names and the rows under it (whitespace-separated numbers).
fn table(out: &str) -> Option<(Vec<String>, Vec<Vec<f64>>)> {
    // A last line without its newline was cut off (the program killed mid-write): a row cut
    // mid-number would be a wrong figure, so it is not read.
    let mut lines: Vec<&str> = out.lines().collect();
    if !out.ends_with('\n') {
        lines.pop();
    }
    let h = lines
        .iter()
        .rposition(|l| l.trim_start().starts_with("#bytes"))?;
    // Header names contain spaces ("BW peak[MB/sec]", "99% percentile[usec]"): split on the
    // closing bracket and on runs of two spaces.
    let header = lines[h].trim().replace('\t', "  ");
    let mut cols = Vec::new();
    for part in header.split("  ").map(str::trim).filter(|p| !p.is_empty()) {
        // "#bytes #iterations" may be one part.
        if part.starts_with('#') {
            cols.extend(part.split_whitespace().map(str::to_string));
        } else {
            cols.push(part.to_string());
        }
    }
    let mut rows = Vec::new();
    for l in &lines[h + 1..] {
        let t = l.trim();
        if t.is_empty() || t.starts_with('-') {
            if rows.is_empty() {
                continue;
            }
            break;
        }
        // Real runs print notes between the header and the rows ("Conflicting CPU frequency
        // values detected: …", "WARNING: …"): a line that does not begin with a number is not
        // a row and is passed over.
        if !t.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let nums: Option<Vec<f64>> = t
            .split_whitespace()
            .map(|x| x.parse::<f64>().ok())
            .collect();
        match nums {
            Some(n) if n.len() >= 3 && n.iter().all(|v| v.is_finite() && *v >= 0.0) => rows.push(n),
            _ => break,
        }
    }
    (!rows.is_empty()).then_some((cols, rows))
}

fn col(cols: &[String], name: &str) -> Option<usize> {
    cols.iter().position(|c| c == name)
}

/// The bandwidth rows of an `ib_*_bw` run; `None` without a complete table.
pub fn parse_bw(out: &str) -> Option<Vec<Bandwidth>> {
    let (cols, rows) = table(out)?;
    let (avg, scale) = match col(&cols, "BW average[Gb/sec]") {
        Some(i) => (i, 1.0),
        None => (col(&cols, "BW average[MB/sec]")?, 1048576.0 * 8.0 / 1e9),
    };
    let peak = col(&cols, "BW peak[Gb/sec]").or_else(|| col(&cols, "BW peak[MB/sec]"));
    let rate = col(&cols, "MsgRate[Mpps]");
    rows.iter()
        .map(|r| {
            Some(Bandwidth {
                bytes: *r.first()? as u64,
                iterations: *r.get(1)? as u64,
                average_gbps: r.get(avg)? * scale,
                peak_gbps: peak.and_then(|i| r.get(i)).map(|v| v * scale),
                msg_rate_mpps: rate.and_then(|i| r.get(i)).copied(),
            })
        })
        .collect()
}

/// The latency rows of an `ib_*_lat` run; `None` without a complete table.
pub fn parse_lat(out: &str) -> Option<Vec<Latency>> {
    let (cols, rows) = table(out)?;
    let typical = col(&cols, "t_typical[usec]")?;
    let avg = col(&cols, "t_avg[usec]");
    let p99 = col(&cols, "99% percentile[usec]");
    let max = col(&cols, "t_max[usec]");
    rows.iter()
        .map(|r| {
            Some(Latency {
                bytes: *r.first()? as u64,
                iterations: *r.get(1)? as u64,
                typical_us: *r.get(typical)?,
                avg_us: avg.and_then(|i| r.get(i)).copied(),
                p99_us: p99.and_then(|i| r.get(i)).copied(),
                max_us: max.and_then(|i| r.get(i)).copied(),
            })
        })
        .collect()
}

/// An InfiniBand port's `rate` ("100 Gb/sec (4X EDR)", "2.5 Gb/sec (1X SDR)") in Gb/s.
pub fn parse_port_rate(s: &str) -> Option<f64> {
    let mut w = s.split_whitespace();
    let v: f64 = w.next()?.parse().ok()?;
    (w.next()? == "Gb/sec" && v.is_finite() && v > 0.0).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BW: &str = "\
---------------------------------------------------------------------------------------
                    RDMA_Write BW Test
 Dual-port       : OFF          Device         : mlx5_0
 Number of qps   : 1            Transport type : IB
 Link type       : IB
---------------------------------------------------------------------------------------
 #bytes     #iterations    BW peak[Gb/sec]    BW average[Gb/sec]   MsgRate[Mpps]
 65536      5000             92.35              92.31                0.176071
---------------------------------------------------------------------------------------
";
    const LAT: &str = "\
---------------------------------------------------------------------------------------
                    RDMA_Read Latency Test
---------------------------------------------------------------------------------------
 #bytes #iterations    t_min[usec]    t_max[usec]  t_typical[usec]    t_avg[usec]    t_stdev[usec]   99% percentile[usec]   99.9% percentile[usec]
 2       1000          1.84           4.87         1.90                1.92             0.10            2.14                    4.87
---------------------------------------------------------------------------------------
";

    #[test]
    fn bandwidth_and_latency() {
        let bw = parse_bw(BW).expect("bw");
        assert_eq!(bw.len(), 1);
        assert_eq!((bw[0].bytes, bw[0].iterations), (65536, 5000));
        assert_eq!(bw[0].average_gbps, 92.31);
        assert_eq!(bw[0].peak_gbps, Some(92.35));
        assert_eq!(bw[0].msg_rate_mpps, Some(0.176071));
        let mb = BW
            .replace("[Gb/sec]", "[MB/sec]")
            .replace("92.31", "11004.0");
        let v = parse_bw(&mb).expect("MB/sec")[0].average_gbps;
        assert!((v - 92.31).abs() < 0.01, "{v}");
        let lat = parse_lat(LAT).expect("lat");
        assert_eq!(lat[0].typical_us, 1.90);
        assert_eq!(lat[0].p99_us, Some(2.14));
        assert_eq!(lat[0].max_us, Some(4.87));
        // Each parser refuses the other's table.
        assert_eq!(parse_lat(BW), None);
        assert_eq!(parse_bw(LAT), None);
    }

    #[test]
    fn truncated_garbage_missing() {
        for cut in [
            10,
            BW.find("#bytes").expect("header") + 20,
            BW.find(" 65536").expect("row"),
        ] {
            assert_eq!(parse_bw(&BW[..cut]), None, "cut at {cut}");
        }
        // A row cut before its end of line is not read (a number cut short would be wrong).
        let half = &BW[..BW.find("0.176071").expect("rate") + 3];
        assert_eq!(parse_bw(half), None);
        let whole = &BW[..BW.find("0.176071").expect("rate") + 9];
        assert!(parse_bw(whole).is_some_and(|r| r[0].msg_rate_mpps == Some(0.176071)));
        assert_eq!(parse_bw(""), None);
        assert_eq!(parse_bw("garbage\n#bytes x\nnot numbers\n"), None);
        assert_eq!(parse_bw(" Couldn't connect to 192.0.2.2:18515\n"), None);
        assert_eq!(parse_lat(&LAT.replace("1.90", "nan?")), None);
        assert_eq!(parse_port_rate("100 Gb/sec (4X EDR)"), Some(100.0));
        assert_eq!(parse_port_rate("2.5 Gb/sec (1X SDR)"), Some(2.5));
        assert_eq!(parse_port_rate(""), None);
        assert_eq!(parse_port_rate("fast"), None);
        assert_eq!(parse_port_rate("0 Gb/sec"), None);
    }

    fn recorded(name: &str) -> String {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/perftest")
            .join(name);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    #[test]
    fn recorded_latency_outputs() {
        // ConnectX-3 InfiniBand: one CPU-frequency note between the header and the row.
        let ib = parse_lat(&recorded("read_lat_client_ib_mlx4.txt")).expect("mlx4 IB");
        assert_eq!(ib.len(), 1);
        assert_eq!((ib[0].bytes, ib[0].iterations), (2, 1000));
        assert_eq!(ib[0].typical_us, 1.79);
        assert_eq!(ib[0].avg_us, Some(1.80));
        assert_eq!(ib[0].p99_us, Some(1.88));
        assert_eq!(ib[0].max_us, Some(6.12));
        // ConnectX-5 RoCE VF: libibverbs warnings first, two notes before the row.
        let roce = parse_lat(&recorded("read_lat_client_roce_cx5.txt")).expect("cx5 RoCE");
        assert_eq!(roce[0].typical_us, 6.74);
        assert_eq!(roce[0].p99_us, Some(7.15));
        assert_eq!(roce[0].max_us, Some(20.37));
        // The server side prints no table: nothing to judge there.
        assert_eq!(parse_lat(&recorded("read_lat_server_ib_mlx4.txt")), None);
        assert_eq!(parse_bw(&recorded("read_lat_client_ib_mlx4.txt")), None);
    }

    #[test]
    fn recorded_bandwidth_outputs() {
        // Gb/sec with tabs inside the row (RoCE, post list, 8-byte messages for 60 s).
        let g = parse_bw(&recorded("write_bw_client_roce_gbits.txt")).expect("gbits");
        assert_eq!((g[0].bytes, g[0].iterations), (8, 224958464));
        assert_eq!(g[0].average_gbps, 0.48);
        assert_eq!(g[0].peak_gbps, Some(0.0));
        assert_eq!(g[0].msg_rate_mpps, Some(7.498617));
        // MB/sec (2^20 bytes): 1476.74 MB/s = 12.39 Gb/s.
        let m = parse_bw(&recorded("send_bw_client_ud_mbytes.txt")).expect("MB/sec");
        assert!(
            (m[0].average_gbps - 12.388).abs() < 0.01,
            "{}",
            m[0].average_gbps
        );
        // Header at column 0, tabs between columns.
        let a = parse_bw(&recorded("send_bw_rows_arm_mlx5.txt")).expect("arm");
        assert!(
            (a[0].average_gbps - 46.51).abs() < 0.01,
            "{}",
            a[0].average_gbps
        );
        assert_eq!(a[0].msg_rate_mpps, Some(5.677340));
        // A real output cut after two columns of its row: no figure.
        assert_eq!(parse_bw(&recorded("write_bw_server_roce_cut.txt")), None);
        assert_eq!(parse_lat(&recorded("write_bw_client_roce_gbits.txt")), None);
    }

    #[test]
    fn recorded_outputs_truncated_anywhere_never_give_a_wrong_figure() {
        let full = recorded("read_lat_client_roce_cx5.txt");
        let row = full.find(" 2       1000").expect("row");
        let end = row + full[row..].find('\n').expect("end of row");
        for cut in (0..=full.len()).filter(|c| full.is_char_boundary(*c)) {
            match parse_lat(&full[..cut]) {
                None => assert!(cut <= end, "cut at {cut} gave nothing"),
                Some(r) => {
                    assert!(cut > end, "cut at {cut} gave {r:?}");
                    assert_eq!(r[0].p99_us, Some(7.15));
                }
            }
        }
    }
}
