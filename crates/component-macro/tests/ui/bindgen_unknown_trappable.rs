weld_component_macro::bindgen!({
    inline: "
        package a:b;
        world w { import f: func(); }
    ",
    trappable_imports: ["g"],
});

fn main() {}
