using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AudioConverter.Infrastructure.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class TaskEvents : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "task_events",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    TaskId = table.Column<long>(type: "INTEGER", nullable: false),
                    UserId = table.Column<long>(type: "INTEGER", nullable: false),
                    Type = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Version = table.Column<int>(type: "INTEGER", nullable: false),
                    Data = table.Column<string>(type: "TEXT", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_task_events", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_task_events_CreatedAt",
                table: "task_events",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_task_events_UserId_Id",
                table: "task_events",
                columns: new[] { "UserId", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "task_events");
        }
    }
}
