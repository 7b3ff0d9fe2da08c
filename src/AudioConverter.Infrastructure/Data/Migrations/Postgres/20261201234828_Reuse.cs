using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AudioConverter.Infrastructure.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Reuse : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_tasks_UserId_InputSha256",
                table: "tasks");

            migrationBuilder.CreateIndex(
                name: "IX_tasks_UserId_InputSha256_NewFormat_Status",
                table: "tasks",
                columns: new[] { "UserId", "InputSha256", "NewFormat", "Status" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_tasks_UserId_InputSha256_NewFormat_Status",
                table: "tasks");

            migrationBuilder.CreateIndex(
                name: "IX_tasks_UserId_InputSha256",
                table: "tasks",
                columns: new[] { "UserId", "InputSha256" });
        }
    }
}
