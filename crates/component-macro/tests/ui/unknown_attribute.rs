use weld_component_macro::ComponentType;

#[derive(ComponentType)]
#[component(struct)]
struct Person {
    name: String,
}

fn main() {}
