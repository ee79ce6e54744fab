//! Guo & Hall's parallel thinning (algorithm A1, "Parallel thinning with
//! two-subiteration algorithms", CACM 32(3), 1989): peels the ridges from
//! alternate sides until each is an 8-connected line one pixel wide that
//! keeps its topology (no ridge is cut, none is joined) and its end points.

use std::sync::OnceLock;

use super::enhance::Binary;

/// For each subiteration and each 8-neighbourhood (bit 0 = N, then
/// clockwise), whether the centre pixel is deleted.
fn table() -> &'static [[bool; 256]; 2] {
    static TABLE: OnceLock<[[bool; 256]; 2]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [[false; 256]; 2];
        for (pass, row) in t.iter_mut().enumerate() {
            for (bits, cell) in row.iter_mut().enumerate() {
                let p = |k: usize| (bits >> k) & 1 == 1;
                // Guo & Hall name the neighbours p2 (N) … p9 (NW).
                let (p2, p3, p4, p5, p6, p7, p8, p9) =
                    (p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7));
                let c = usize::from(!p2 && (p3 || p4))
                    + usize::from(!p4 && (p5 || p6))
                    + usize::from(!p6 && (p7 || p8))
                    + usize::from(!p8 && (p9 || p2));
                let n1 = usize::from(p9 || p2)
                    + usize::from(p3 || p4)
                    + usize::from(p5 || p6)
                    + usize::from(p7 || p8);
                let n2 = usize::from(p2 || p3)
                    + usize::from(p4 || p5)
                    + usize::from(p6 || p7)
                    + usize::from(p8 || p9);
                let n = n1.min(n2);
                let m = if pass == 0 {
                    (p6 || p7 || !p9) && p8
                } else {
                    (p2 || p3 || !p5) && p4
                };
                *cell = c == 1 && (2..=3).contains(&n) && !m;
            }
        }
        t
    })
}

/// Thins the ridges of `img` in place.
pub(crate) fn guo_hall(img: &mut Binary) {
    let table = table();
    // Only ridge pixels can change; track them in a list.
    let mut live: Vec<usize> = (0..img.px.len()).filter(|&i| img.px[i] == 1).collect();
    let mut doomed = Vec::new();
    loop {
        let mut changed = false;
        for pass in table {
            doomed.clear();
            doomed.extend(
                live.iter()
                    .copied()
                    .filter(|&i| pass[usize::from(img.neighbours(i))]),
            );
            for &i in &doomed {
                img.px[i] = 0;
            }
            changed |= !doomed.is_empty();
            live.retain(|&i| img.px[i] == 1);
        }
        if !changed {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_ascii(rows: &[&str]) -> Binary {
        let mut b = Binary::new(rows[0].len(), rows.len());
        for (y, r) in rows.iter().enumerate() {
            for (x, c) in r.bytes().enumerate() {
                if c == b'#' {
                    b.set(x, y);
                }
            }
        }
        b
    }

    #[test]
    fn a_thick_bar_becomes_a_line() {
        let mut b = from_ascii(&[
            "..............",
            ".############.",
            ".############.",
            ".############.",
            ".############.",
            "..............",
        ]);
        guo_hall(&mut b);
        let count = b.px.iter().filter(|&&p| p == 1).count();
        assert!((8..=13).contains(&count), "{count} pixels left");
        // Every column of the bar's middle keeps exactly one pixel.
        for x in 3..10 {
            let n = (0..6).filter(|&y| b.px[b.index(x, y)] == 1).count();
            assert_eq!(n, 1, "column {x}");
        }
    }
}
