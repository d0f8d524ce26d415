use weld_component_macro::ComponentType;

#[derive(ComponentType)]
struct Empty {}

fn main() {}
