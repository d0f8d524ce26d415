use weld_component_macro::{ComponentType, Lift, Lower};

#[derive(ComponentType, Lift, Lower)]
struct Point(u32, u32);

fn main() {}
