//! Reply types that describe themselves: [`view!`] declares a serde reply struct together with
//! its OpenAPI schema, so the two cannot drift.
//!
//! Each field states its schema kind (a [`Ty`](super::Ty)) beside its Rust type; the field's name
//! is its serde name, its doc comment its description, and whether it may be `null` follows from
//! the Rust type ([`Nullable`]). The struct's doc comment describes the schema. What bodies accept
//! is said in each module's `resources()` with the [`Resource`] builder.

use super::openapi::{Field, Resource};

/// A reply type with its schema: no field of it is accepted by bodies yet.
pub trait Described {
    fn resource() -> Resource;
}

/// Whether a Rust type serialises as `null` at times: only `Option` does.
pub trait Nullable {
    const NULLABLE: bool = false;
}

impl<T> Nullable for Option<T> {
    const NULLABLE: bool = true;
}

impl Nullable for i64 {}
impl Nullable for i32 {}
impl Nullable for u32 {}
impl Nullable for bool {}
impl Nullable for String {}
impl Nullable for &'static str {}
impl<T> Nullable for Vec<T> {}

/// One field of a [`view!`] struct.
pub fn field<T: Nullable>(name: &'static str, ty: super::Ty, doc: &'static str) -> Field {
    Field { nullable: T::NULLABLE, description: doc.trim_ascii(), ..Field::read(name, ty) }
}

/// A reply struct and its schema.
///
/// ```ignore
/// view! {
///     /// A sales team.
///     pub struct TeamView as "Team" {
///         id: i64 => Ty::Id,
///         /// Who leads it.
///         manager_id: Option<i64> => Ty::Id,
///     }
/// }
/// ```
///
/// gives a `#[derive(Serialize)]` struct with public fields in this order (serde's order), and
/// [`Described`] for it. A first field marked `#[serde(flatten)]` takes another view's fields,
/// in front of its own.
macro_rules! view {
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $view:ident as $schema:literal {
            $(#[serde(flatten)] $flat:ident: $flat_ty:ty,)?
            $(
                $(#[doc = $field_doc:literal])*
                $field:ident: $ty:ty => $kind:expr
            ),* $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(serde::Serialize)]
        $vis struct $view {
            $(#[serde(flatten)] pub $flat: $flat_ty,)?
            $($(#[doc = $field_doc])* pub $field: $ty,)*
        }

        impl $crate::api::describe::Described for $view {
            fn resource() -> $crate::api::openapi::Resource {
                let own = vec![$($crate::api::describe::field::<$ty>(stringify!($field), $kind, concat!($($field_doc),*))),*];
                let fields = [$(<$flat_ty as $crate::api::describe::Described>::resource().fields,)? own].concat();
                $crate::api::openapi::Resource::new($schema, concat!($($doc),*).trim_ascii(), fields)
            }
        }

        impl $crate::api::describe::Nullable for $view {}
    };
}

pub(crate) use view;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::openapi::Create;
    use crate::api::{Ty, resources};

    view! {
        /// A thing
        /// over two lines.
        struct ThingView as "Thing" {
            id: i64 => Ty::Id,
            /// Its name.
            name: Option<String> => Ty::Text,
        }
    }

    view! {
        /// A thing with more.
        struct BigThingView as "BigThing" {
            #[serde(flatten)]
            thing: ThingView,
            /// One more.
            more: bool => Ty::Boolean,
        }
    }

    fn summary(resource: &Resource) -> String {
        let fields: Vec<String> = resource
            .fields
            .iter()
            .map(|field| {
                let null = if field.nullable { "?" } else { "" };
                let body = match (field.view, field.create, field.patch) {
                    (true, Create::No, false) => String::new(),
                    (view, create, patch) => format!(" view={view} create={create:?} patch={patch}"),
                };
                format!("{}{null}: {:?} {:?}{body}", field.name, field.ty, field.description)
            })
            .collect();
        format!("{} {:?}\n{}", resource.name, resource.description, fields.join("\n"))
    }

    #[test]
    fn a_view_describes_its_fields() {
        assert_eq!(
            summary(&Resource::of::<BigThingView>()),
            "BigThing \"A thing with more.\"\nid: Id \"\"\nname?: Text \"Its name.\"\nmore: Boolean \"One more.\""
        );
        assert_eq!(summary(&Resource::of::<ThingView>()), "Thing \"A thing over two lines.\"\nid: Id \"\"\nname?: Text \"Its name.\"");
        let thing = BigThingView { thing: ThingView { id: 1, name: None }, more: true };
        assert_eq!(serde_json::to_string(&thing).unwrap(), r#"{"id":1,"name":null,"more":true}"#);
    }

    #[test]
    fn bodies_name_fields_of_the_view() {
        let resource =
            Resource::of::<ThingView>().required(&["name"]).input(Field::read("position", Ty::Integer).create_only(Create::Optional));
        assert_eq!(
            summary(&resource),
            "Thing \"A thing over two lines.\"\nid: Id \"\"\nname?: Text \"Its name.\" view=true create=Required patch=true\n\
             position: Integer \"\" view=false create=Optional patch=false"
        );
        let typo = std::panic::catch_unwind(|| Resource::of::<ThingView>().writable(&["nmae"]).fields.len());
        let message = typo.expect_err("an unknown name panics");
        assert_eq!(message.downcast_ref::<String>().map(String::as_str), Some("Thing has no field nmae"));
    }

    #[test]
    fn every_resource_builds_under_a_name_of_its_own() {
        // The builders panic on a name the view lacks; a repeated name would hide a schema.
        let resources = resources();
        let mut names: Vec<&str> = resources.iter().map(|resource| resource.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), resources.len());
    }
}
