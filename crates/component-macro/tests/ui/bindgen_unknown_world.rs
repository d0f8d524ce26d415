weld_component_macro::bindgen!({
    world: "nope",
    inline: "
        package a:b;
        world first {}
        world second {}
    ",
});

fn main() {}
