use weld_component_macro::ComponentType;

#[derive(ComponentType)]
#[component(variant)]
enum Shape {
    Rect { width: f32, height: f32 },
}

fn main() {}
