//! The demo and test camera with a real face composited in
//! (`SyntheticFace::with_portrait`): the detector finds exactly that face
//! in every frame, the eyes where the source put them, far enough apart
//! for the ICAO resolution check — what the UI tests of auto-capture rely
//! on.

use pishkhan_camera::SyntheticFace;
use pishkhan_face::{CheckId, Detector, Policy, analyse};

#[test]
fn every_frame_shows_one_face_with_its_eyes_where_they_were_put() {
    let camera = SyntheticFace::new(640, 480, 15).with_portrait();
    let mut detector = Detector::new().expect("model loads");
    for n in (0..60).step_by(3) {
        let frame = camera.render(n);
        let faces = detector.detect(&frame).expect("runs");
        assert_eq!(faces.len(), 1, "frame {n}: {faces:?}");
        let [right, left] = camera.eyes(n);
        let face = faces[0];
        for (found, truth) in [(face.right_eye, right), (face.left_eye, left)] {
            let off = (f64::from(found.x) - truth.0).hypot(f64::from(found.y) - truth.1);
            assert!(off <= 6.0, "frame {n}: eye {found:?} vs {truth:?}");
        }
        let a = analyse(&frame, faces, &Policy::default());
        assert_eq!(
            a.check(CheckId::EyeDistance).map(|c| c.passed),
            Some(true),
            "frame {n}: {:?}",
            a.check(CheckId::EyeDistance)
        );
    }
}
