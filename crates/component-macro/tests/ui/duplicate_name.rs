use weld_component_macro::ComponentType;

#[derive(ComponentType)]
struct Person {
    first_name: String,
    #[component(name = "first-name")]
    name: String,
}

fn main() {}
