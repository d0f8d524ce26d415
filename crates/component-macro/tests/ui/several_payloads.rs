use weld_component_macro::{ComponentType, Lift, Lower};

#[derive(ComponentType, Lift, Lower)]
#[component(variant)]
enum Shape {
    Circle(f64),
    Rect(f32, f32),
}

fn main() {}
