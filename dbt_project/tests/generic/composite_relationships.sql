{#-
    Every row of the model whose `columns` are all non-null finds a row of `to` with the same values in
    `to_columns` (default: the same names): dbt's `relationships` test for a compound key such as
    (chain_id, block_number). Restrict the child rows with the test's `where` config.

    `range_columns` (some of `columns`, e.g. a block number): the parent is read only between the child
    rows' smallest and largest value of each. The equality implies it, so the result is the same; it lets
    the database skip the parent's stored row groups outside that range (tables written in block order),
    which matters when a nightly test reads a few days of child rows against years of parent rows.
-#}
{% test composite_relationships(model, columns, to, to_columns=none, range_columns=[]) %}

    {%- set parent_columns = to_columns or columns %}
    {%- for column in range_columns if column not in columns %}
        {{ exceptions.raise_compiler_error(
            'composite_relationships: range column ' ~ column ~ ' is not one of the columns ' ~ columns) }}
    {%- endfor %}

    with

    child as (

        select
            {{ columns | join(', ') }}
        from {{ model }}
        where
            {% for column in columns -%}
            {{ column }} is not null{{ ' and' if not loop.last }}
            {% endfor %}

    ),

    orphans as (

        select child.*
        from child
        where not exists (
            select 1
            from {{ to }} as parent
            where
                {% for column in columns -%}
                parent.{{ parent_columns[loop.index0] }} = child.{{ column }}{{ ' and' if not loop.last }}
                {% endfor %}
                {%- for column in range_columns %}
                {%- set parent_column = parent_columns[columns.index(column)] %}
                and parent.{{ parent_column }} >= (select min({{ column }}) from child)
                and parent.{{ parent_column }} <= (select max({{ column }}) from child)
                {%- endfor %}
        )

    )

    select * from orphans

{% endtest %}
